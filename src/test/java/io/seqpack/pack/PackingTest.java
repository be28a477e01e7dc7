package io.seqpack.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.testing.Golden;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class PackingTest {

  /** PyTorch's pad_packed_sequence doc example: lens [2, 1, 3], values 1..6 in a [T=3, B=3] padded tensor. */
  @Test
  void reproducesPyTorchDocExample() {
    // a = [1, 2], b = [3], c = [4, 5, 6] (the doc's seq padded time-major: [[1,3,4],[2,0,5],[0,0,6]])
    PaddedTensor padded = Packing.padSequence(
        List.of(new float[] {1, 2}, new float[] {3}, new float[] {4, 5, 6}), 1, false, 0f);
    assertArrayEquals(new float[] {1, 3, 4, 2, 0, 5, 0, 0, 6}, padded.data());

    PackedSequence packed = Packing.packPaddedSequence(padded, new int[] {2, 1, 3});
    assertArrayEquals(new float[] {4, 1, 3, 5, 2, 6}, packed.data());
    assertArrayEquals(new int[] {3, 2, 1}, packed.layout().batchSizes());
    assertArrayEquals(new int[] {2, 0, 1}, packed.layout().sortedIndices());
    assertArrayEquals(new int[] {1, 2, 0}, packed.layout().unsortedIndices());
    assertArrayEquals(new int[] {0, 3, 5, 6}, packed.layout().stepOffsets());

    Packing.Unpacked unpacked = Packing.padPackedSequence(packed, false, 0f, null);
    assertArrayEquals(padded.data(), unpacked.padded().data());
    assertArrayEquals(new int[] {2, 1, 3}, unpacked.lengths());
  }

  @Test
  void unpackInvertsPackOnRandomRaggedBatches() {
    Random random = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      int batch = 1 + random.nextInt(24);
      int width = 1 + random.nextInt(4);
      int maxLength = 1 + random.nextInt(12);
      boolean batchFirst = random.nextBoolean();
      float paddingValue = random.nextBoolean() ? 0f : -7.5f;
      List<float[]> sequences = new ArrayList<>();
      int[] lengths = new int[batch];
      for (int b = 0; b < batch; b++) {
        lengths[b] = 1 + random.nextInt(maxLength);
        float[] seq = new float[lengths[b] * width];
        for (int i = 0; i < seq.length; i++) {
          seq[i] = random.nextFloat();
        }
        sequences.add(seq);
      }
      PaddedTensor padded = Packing.padSequence(sequences, width, batchFirst, paddingValue);
      PackedSequence packed = Packing.packPaddedSequence(padded, lengths);
      PackedLayout layout = packed.layout();
      assertEquals(Arrays.stream(lengths).sum(), layout.totalRows());
      for (int s = 1; s < batch; s++) {
        assertTrue(layout.sortedLengths()[s - 1] >= layout.sortedLengths()[s], "descending");
      }
      for (int t = 0; t < layout.maxLength(); t++) {
        int t0 = t;
        assertEquals(Arrays.stream(lengths).filter(len -> len > t0).count(), layout.batchSizes()[t]);
      }
      Packing.Unpacked unpacked = Packing.padPackedSequence(packed, batchFirst, paddingValue, null);
      assertArrayEquals(padded.data(), unpacked.padded().data(), "trial " + trial);
      assertArrayEquals(lengths, unpacked.lengths());
    }
  }

  @Test
  void sortIsStableOnTies() {
    PackedLayout layout = PackedLayout.of(new int[] {3, 5, 3, 1, 5});
    assertArrayEquals(new int[] {1, 4, 0, 2, 3}, layout.sortedIndices());
    assertArrayEquals(new int[] {2, 0, 3, 4, 1}, layout.unsortedIndices());
    assertArrayEquals(new int[] {5, 5, 3, 3, 1}, layout.sortedLengths());
  }

  @Test
  void rejectsNonPositiveLengthWithPyTorchMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PackedLayout.of(new int[] {3, 0, 2}));
    assertEquals("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        + " (lengths[1] = 0)", e.getMessage());
  }

  @Test
  void rejectsEmptyBatchWithPyTorchMessage() {
    assertEquals("Cannot pack empty tensors.",
        assertThrows(IllegalArgumentException.class, () -> PackedLayout.of(new int[0])).getMessage());
    PaddedTensor empty = new PaddedTensor(new float[0], 0, 0, 1, true);
    assertEquals("Cannot pack empty tensors.",
        assertThrows(IllegalArgumentException.class, () -> Packing.packPaddedSequence(empty, new int[0]))
            .getMessage());
  }

  @Test
  void rejectsLengthsLongerThanPaddedSteps() {
    PaddedTensor padded = Packing.padSequence(List.of(new float[] {1, 2}, new float[] {3}), 1, true, 0f);
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> Packing.packPaddedSequence(padded, new int[] {3, 1}));
    assertEquals("Cannot pack padded sequence: lengths[0] = 3 exceeds the padded length 2", e.getMessage());
  }

  @Test
  void rejectsLengthCountDifferentFromBatch() {
    PaddedTensor padded = Packing.padSequence(List.of(new float[] {1, 2}, new float[] {3}), 1, true, 0f);
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> Packing.packPaddedSequence(padded, new int[] {2}));
    assertEquals("Expected `len(lengths)` to be equal to batch_size, but got 1 (batch_size=2)", e.getMessage());
  }

  @Test
  void rejectsTotalLengthShorterThanLongestWithPyTorchMessage() {
    PaddedTensor padded = Packing.padSequence(List.of(new float[] {1, 2, 3}, new float[] {4}), 1, true, 0f);
    PackedSequence packed = Packing.packPaddedSequence(padded, new int[] {3, 1});
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> Packing.padPackedSequence(packed, true, 0f, 2));
    assertEquals("Expected total_length to be at least the length of the longest sequence in input, but got "
        + "total_length=2 and max sequence length being 3", e.getMessage());
  }

  @Test
  void totalLengthPadsWithPaddingValue() {
    PaddedTensor padded = Packing.padSequence(List.of(new float[] {1, 2}, new float[] {3}), 1, true, 0f);
    PackedSequence packed = Packing.packPaddedSequence(padded, new int[] {2, 1});
    Packing.Unpacked unpacked = Packing.padPackedSequence(packed, true, -1f, 4);
    assertArrayEquals(new float[] {1, 2, -1, -1, 3, -1, -1, -1}, unpacked.padded().data());
  }

  /** Every case of golden/packing.json, produced by PyTorch. */
  @TestFactory
  Stream<DynamicTest> matchesPyTorchPackingFixtures() {
    List<Map<String, Object>> cases = Golden.packingCases();
    assertFalse(cases.isEmpty(), "golden/packing.json is missing or empty");
    return cases.stream().map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> checkPackingCase(c)));
  }

  private static void checkPackingCase(Map<String, Object> c) {
    int width = Golden.ints(c.get("width"))[0];
    boolean batchFirst = (Boolean) c.get("batch_first");
    float paddingValue = Golden.floats(c.get("padding_value"))[0];
    int[] lengths = Golden.ints(c.get("lengths"));
    Integer totalLength = c.get("total_length") == null ? null : Golden.ints(c.get("total_length"))[0];

    // pad_sequence from the individual sequences, read out of PyTorch's padded tensor
    float[] expectedPadded = Golden.floats(c.get("padded"));
    int batch = lengths.length;
    int steps = Arrays.stream(lengths).max().orElseThrow();
    PaddedTensor reference = new PaddedTensor(expectedPadded, batch, steps, width, batchFirst);
    List<float[]> sequences = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      float[] seq = new float[lengths[b] * width];
      for (int t = 0; t < lengths[b]; t++) {
        System.arraycopy(expectedPadded, reference.index(b, t), seq, t * width, width);
      }
      sequences.add(seq);
    }
    PaddedTensor padded = Packing.padSequence(sequences, width, batchFirst, paddingValue);
    assertArrayEquals(expectedPadded, padded.data(), "padded");

    PackedSequence packed = Packing.packPaddedSequence(padded, lengths);
    PackedLayout layout = packed.layout();
    assertArrayEquals(Golden.ints(c.get("batch_sizes")), layout.batchSizes(), "batch_sizes");
    int[] torchSorted = Golden.ints(c.get("sorted_indices"));
    int[] torchUnsorted = Golden.ints(c.get("unsorted_indices"));
    float[] torchData = Golden.floats(c.get("data"));
    if (Arrays.equals(torchSorted, layout.sortedIndices())) {
      assertArrayEquals(torchUnsorted, layout.unsortedIndices(), "unsorted_indices");
      assertArrayEquals(torchData, packed.data(), "data");
    } else {
      // torch.sort is unstable on ties for larger batches: only the order among equal lengths may differ, and
      // then the packed data must agree row for row once both are keyed by original sequence index.
      int[] sortedLengthsOfTorch = Arrays.stream(torchSorted).map(i -> lengths[i]).toArray();
      assertArrayEquals(layout.sortedLengths(), sortedLengthsOfTorch, "torch sorted_indices order lengths alike");
      for (int i = 0; i < batch; i++) {
        assertEquals(i, torchSorted[torchUnsorted[i]], "torch unsorted_indices inverts sorted_indices");
      }
      for (int t = 0; t < layout.maxLength(); t++) {
        for (int s = 0; s < layout.batchSizes()[t]; s++) {
          int original = torchSorted[s];
          int ours = layout.unsortedIndices()[original];
          float[] expectedRow = Arrays.copyOfRange(torchData, (layout.stepOffsets()[t] + s) * width,
              (layout.stepOffsets()[t] + s + 1) * width);
          float[] actualRow = Arrays.copyOfRange(packed.data(), layout.packedRow(ours, t) * width,
              (layout.packedRow(ours, t) + 1) * width);
          assertArrayEquals(expectedRow, actualRow, "data of sequence " + original + " step " + t);
        }
      }
    }

    Packing.Unpacked unpacked = Packing.padPackedSequence(packed, batchFirst, paddingValue, totalLength);
    assertArrayEquals(Golden.floats(c.get("unpacked")), unpacked.padded().data(), "unpacked");
    assertArrayEquals(Golden.ints(c.get("unpacked_lengths")), unpacked.lengths(), "unpacked_lengths");
  }
}
