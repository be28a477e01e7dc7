package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.Gemm;
import io.seqpack.nn.SequenceModel;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The numbers behind docs/reliability.md's sizing of {@code spark.executor.memoryOverhead}: what one model and one
 * scoring thread allocate, measured with JavaCPP's counters ({@code Pointer.totalBytes()}: every off-heap buffer
 * seqpack allocates goes through it; {@code Pointer.physicalBytes()}: the process's resident memory) and the heap
 * after GC, against the formulas in that document:
 *
 * <ul>
 *   <li>weights, off heap, per model per executor JVM: 4 bytes × every matrix {@code Gemm.prepare} copies
 *       ({@code W_ih}, {@code W_hh} per layer and direction, {@code W_hr}, head and attention weights);
 *   <li>GEMM scratch, off heap, per task thread (shared by all models): 4 bytes × (max m·k + max m·n) over the
 *       products of the largest batch, m = rows of the product (batch rows in the time loop, every step of the batch
 *       in the hoisted input projection);
 *   <li>vocabulary table, on the heap, per model: vocab × gates·hidden × directions floats;
 *   <li>workspace, on the heap, per task thread per model: the layer outputs, projections and gates of the batch.
 * </ul>
 *
 * <p>Models: the bench's RNN (tanh, hidden 256, vocab 10,000, embedding 100) and the same shape as an LSTM, each with
 * the vocabulary table (the default) and without ({@code vocabTableMaxFloats = 0}: layer 0 by GEMM, the path every
 * layer after the first takes). The batch is the largest the default plan makes: 256 rows × 64 steps = 16,384 tokens.
 */
class NativeMemoryIT {
  private static final int VOCAB = 10_000;
  private static final int EMBEDDING = 100;
  private static final int HIDDEN = 256;
  private static final int ROWS = 256;
  private static final int STEPS = 64; // ROWS × STEPS = 16,384 = BatchPlan.DEFAULT_BATCH_TOKENS
  private static final long MIB = 1 << 20;

  @TempDir Path tmp;

  @Test
  void weightsScratchTablesAndWorkspaceMatchTheFormulas() throws Exception {
    Assumptions.assumeTrue(Gemm.backend().equals("openblas"), "off-heap buffers exist only on the OpenBLAS backend");
    RaggedBatch batch = batch();
    System.out.println("NativeMemoryIT: JavaCPP maxBytes " + Pointer.maxBytes() / MIB + " MiB, maxPhysicalBytes "
        + Pointer.maxPhysicalBytes() / MIB + " MiB (heap -Xmx " + Runtime.getRuntime().maxMemory() / MIB + " MiB)");
    System.out.println("model     table  weights off-heap        build scratch (builder thread)  table heap"
        + "  scratch/task thread  workspace/task thread  rss/task thread  scratch freed with thread   (f = formula)");
    for (String mode : new String[] {"RNN_TANH", "LSTM"}) {
      Path dir = tmp.resolve(mode);
      SyntheticInputs.writeModel(dir, mode, HIDDEN, VOCAB, EMBEDDING, 3);
      LoadedModel loaded = ModelLoader.load(dir);
      int gateWidth = (mode.equals("LSTM") ? 4 : 1) * HIDDEN;
      for (boolean table : new boolean[] {true, false}) {
        measure(mode, loaded, gateWidth, table, batch);
      }
    }
  }

  private static void measure(String mode, LoadedModel loaded, int gateWidth, boolean table, RaggedBatch batch)
      throws Exception {
    long native0 = settledNative();
    long heap0 = heapAfterGc();
    // Built on a thread of its own, as on an executor the first task to need the model builds it on its thread.
    AtomicReference<SequenceModel> built = new AtomicReference<>();
    long[] building = new long[1];
    onThread("NativeMemoryIT-build", () -> built.set(new SequenceModel(loaded, new SequenceModel.Options(
        table ? SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS : 0))), () -> building[0] = settledNative() - native0);
    SequenceModel model = built.get();
    long weights = settledNative() - native0;
    long buildScratch = building[0] - weights;
    long tableHeap = heapAfterGc() - heap0;
    assertEquals(table, model.usesVocabTable(), "vocabulary table in use");

    // weights off heap (OpenBLAS): W_ih [G·H, E], fc [1, H], and W_hh [G·H, H] unless the time step runs on
    // seqpack's own kernel (Java or native), which keeps W_hh on the heap packed into panels (G·H is a multiple of
    // the panel width)
    boolean panels = SequenceModel.kernels().matches(".*recurrent (vector-api|native-avx512) .*");
    long recurrent = 4L * gateWidth * HIDDEN;
    long weightsFormula = 4L * ((long) gateWidth * EMBEDDING + HIDDEN) + (panels ? 0 : recurrent);
    // heap: the table [vocab, G·H] floats, directions 1, built by one product of all vocab rows on the building
    // thread, whose scratch grows to [vocab, E] + [vocab, G·H]; the packed W_hh
    long tableFormula = (table ? 4L * VOCAB * gateWidth : 0) + (panels ? recurrent : 0);
    long buildScratchFormula = table ? 4L * ((long) VOCAB * EMBEDDING + (long) VOCAB * gateWidth) : 0;
    // scratch: time loop m = ROWS, k = H, n = G·H; the head m = ROWS, k = H, n = 1; without the table also the
    // hoisted input projection m = ROWS·STEPS, k = E, n = G·H
    long n = (long) ROWS * STEPS;
    long scratchFormula = table // the time step's product needs none on the own kernel: then the head's alone
        ? 4L * ((long) ROWS * HIDDEN + (long) ROWS * (panels ? 1 : gateWidth))
        : 4L * (Math.max(n * EMBEDDING, (long) ROWS * HIDDEN) + n * gateWidth);
    // workspace (heap): outputA, outputB [N, H]; gates [B, G·H]; cell state and temp [B, H]; preRows [N] ints;
    // pooled [B, H]; without the table also pre [N, G·H] and the gathered input [N, E]
    long workspaceFormula = 4L * (2 * n * HIDDEN + (long) ROWS * gateWidth + 2L * ROWS * HIDDEN + n + ROWS * HIDDEN
        + (table ? 0 : n * gateWidth + n * EMBEDDING));

    // One scoring thread, as a Spark task thread: score the largest batch, then hold still while we measure.
    long nativeBefore = settledNative();
    long heapBefore = heapAfterGc();
    long rssBefore = Pointer.physicalBytes();
    long[] during = new long[3];
    onThread("NativeMemoryIT-task", () -> model.score(batch, false), () -> {
      during[0] = settledNative() - nativeBefore;
      during[1] = heapAfterGc() - heapBefore;
      during[2] = Pointer.physicalBytes() - rssBefore;
    });
    long scratch = during[0];
    long workspace = during[1];
    long rss = during[2];
    long afterThread = settledNative() - nativeBefore;

    System.out.println(String.format(Locale.ROOT,
        "%-8s  %-5s  %6.2f MiB (f %6.2f)  %6.1f MiB (f %5.1f)  %6.2f MiB (f %6.2f)  %6.2f MiB (f %6.2f)"
            + "  %6.1f MiB (f %6.1f)  %6.1f MiB  %s",
        mode, table ? "on" : "off", weights / (double) MIB, weightsFormula / (double) MIB,
        buildScratch / (double) MIB, buildScratchFormula / (double) MIB, tableHeap / (double) MIB,
        tableFormula / (double) MIB, scratch / (double) MIB, scratchFormula / (double) MIB,
        workspace / (double) MIB, workspaceFormula / (double) MIB, rss / (double) MIB,
        afterThread <= 0 ? "yes" : String.format(Locale.ROOT, "no, %.2f MiB left", afterThread / (double) MIB)));
    assertEquals(weightsFormula, weights, mode + " weights off heap");
    assertEquals(buildScratchFormula, buildScratch, mode + " GEMM scratch of the thread that built the model");
    assertEquals(scratchFormula, scratch, mode + " GEMM scratch of one thread, table " + table);
    // heap figures move with GC bookkeeping: within 10% (+1 MiB)
    assertTrue(Math.abs(tableHeap - tableFormula) <= tableFormula / 10 + MIB, mode + " table and W_hh heap " + tableHeap
        + " vs " + tableFormula);
    // G1 puts each array of half a region or more in whole regions of its own (2 MiB regions for this JVM's 3 GiB
    // heap, 1 MiB for a 1 GiB executor), so a 16 MiB workspace array takes 18 MiB: up to +25% here
    assertTrue(workspace >= workspaceFormula - MIB && workspace <= workspaceFormula * 5 / 4 + MIB, mode
        + " workspace heap " + workspace + " vs " + workspaceFormula);
    assertTrue(afterThread <= 0, "the GEMM scratch of a finished thread is freed after GC: " + afterThread
        + " bytes left");
    assertEquals(HIDDEN, model.outputWidth()); // the model stays reachable through the measurements
  }

  /** Runs {@code work} on a new thread, then {@code measure} on this one while that thread is still alive. */
  private static void onThread(String name, Runnable work, ThrowingRunnable measure) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread = new Thread(() -> {
      try {
        work.run();
      } catch (Throwable t) {
        failure.set(t);
      } finally {
        done.countDown();
      }
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name);
    thread.start();
    done.await();
    try {
      if (failure.get() != null) {
        throw new AssertionError(name + " failed", failure.get());
      }
      measure.run();
    } finally {
      release.countDown();
      thread.join();
    }
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static RaggedBatch batch() {
    SplittableRandom random = new SplittableRandom(1);
    int[][] rows = new int[ROWS][STEPS];
    for (int[] row : rows) {
      for (int t = 0; t < STEPS; t++) {
        row[t] = random.nextInt(VOCAB);
      }
    }
    return RaggedBatch.ofTokens(rows);
  }

  /** {@code Pointer.totalBytes()} once unreachable buffers of earlier work have been freed. */
  private static long settledNative() throws InterruptedException {
    long last = -1;
    for (int i = 0; i < 20; i++) {
      System.gc();
      Thread.sleep(50);
      long now = Pointer.totalBytes();
      if (now == last) {
        return now;
      }
      last = now;
    }
    return last;
  }

  private static long heapAfterGc() throws InterruptedException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
      best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return best;
  }
}
