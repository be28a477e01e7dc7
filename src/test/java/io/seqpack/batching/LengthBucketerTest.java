package io.seqpack.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ConfigException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LengthBucketerTest {
  /** A row with an identity and a length. */
  record Item(int id, int length) {}

  private static List<Item> randomItems(int n, long seed, int maxLength) {
    Random random = new Random(seed);
    List<Item> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(new Item(i, 1 + random.nextInt(maxLength)));
    }
    return items;
  }

  @Test
  void everyRowLandsInExactlyOneBatchWithinBudgetAndCap() {
    for (long seed = 0; seed < 20; seed++) {
      List<Item> items = randomItems(1 + (int) (seed * 97 % 2000), seed, 300);
      BatchPlan plan = new BatchPlan(256, 16, 3);
      int[] seen = new int[items.size()];
      new LengthBucketer<>(items.iterator(), Item::length, plan).forEachRemaining(batch -> {
        assertTrue(!batch.isEmpty() && batch.size() <= plan.maxBatchRows());
        int longest = batch.stream().mapToInt(Item::length).max().orElseThrow();
        assertTrue(batch.size() == 1 || batch.size() * longest <= plan.batchTokens(),
            "batch of " + batch.size() + " rows, longest " + longest);
        batch.forEach(item -> seen[item.id()]++);
      });
      for (int i = 0; i < seen.length; i++) {
        assertEquals(1, seen[i], "row " + i + " (seed " + seed + ")");
      }
    }
  }

  @Test
  void rowLongerThanTheBudgetFormsItsOwnBatch() {
    List<Item> items = List.of(new Item(0, 5), new Item(1, 1000), new Item(2, 5));
    List<List<Item>> batches = new ArrayList<>();
    new LengthBucketer<>(items.iterator(), Item::length, new BatchPlan(100, 10, 20)).forEachRemaining(batches::add);
    assertEquals(List.of(List.of(new Item(1, 1000)), List.of(new Item(0, 5), new Item(2, 5))), batches);
  }

  @Test
  void batchesHoldSimilarLengthsSoLittlePaddingWouldBeNeeded() {
    List<Item> items = randomItems(5000, 7, 512);
    long real = 0;
    long slots = 0;
    Iterator<List<Item>> it = new LengthBucketer<>(items.iterator(), Item::length, BatchPlan.defaults());
    while (it.hasNext()) {
      List<Item> batch = it.next();
      real += batch.stream().mapToInt(Item::length).sum();
      slots += (long) batch.size() * batch.stream().mapToInt(Item::length).max().orElseThrow();
    }
    assertTrue((double) real / slots > 0.9, "fill " + (double) real / slots);
  }

  @Test
  void readsLazilyOneWindowAtATime() {
    AtomicInteger pulled = new AtomicInteger();
    Iterator<Item> source = new Iterator<>() {
      int next;

      @Override
      public boolean hasNext() {
        return next < 1_000_000;
      }

      @Override
      public Item next() {
        pulled.incrementAndGet();
        return new Item(next++, 10);
      }
    };
    BatchPlan plan = new BatchPlan(100, 10, 4); // a window is at most 40 rows / 400 tokens
    LengthBucketer<Item> bucketer = new LengthBucketer<>(source, Item::length, plan);
    bucketer.next();
    assertEquals(40, pulled.get());
  }

  @Test
  void invalidPlansAreRejectedWithTheSettingNameNotACliFlag() {
    ConfigException e = assertThrows(ConfigException.class, () -> new BatchPlan(0, 10, 1));
    assertEquals("Invalid batchTokens 0: must be at least 1", e.getMessage());
    e = assertThrows(ConfigException.class, () -> new BatchPlan(10, -1, 1));
    assertEquals("Invalid maxBatchRows -1: must be at least 1", e.getMessage());
  }
}
