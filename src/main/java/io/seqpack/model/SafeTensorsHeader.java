package io.seqpack.model;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import io.seqpack.ModelFormatException;
import io.seqpack.model.SafeTensors.DType;
import io.seqpack.model.SafeTensors.Entry;
import io.seqpack.util.JsonRecords;
import io.seqpack.util.StrictJson;
import io.seqpack.util.StrictJson.Invalid;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A safetensors header, {@code {"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets"}, ...}},
 * bound by {@link JsonRecords}' strict mapper (integers are counts >= 0, nothing missing or null, no unknown key);
 * each entry makes the reference reader's checks of itself.
 */
final class SafeTensorsHeader {
  /** Checked as the format says (strings), not kept: seqpack reads no metadata. */
  @JsonProperty("__metadata__")
  @JsonSetter(contentNulls = Nulls.FAIL)
  Map<String, String> metadata;

  private final List<Entry> entries = new ArrayList<>();

  /** Every key but {@code __metadata__} is a tensor. */
  @JsonAnySetter
  void tensor(String name, TensorInfo info) {
    if (info == null) { // the any-setter sees null as a value, not as a missing key
      throw new Invalid("", "null", "an object");
    }
    entries.add(new Entry(name, info.dtype(), info.shape().stream().mapToInt(Integer::intValue).toArray(),
        (int) info.numel(), info.dataOffsets().get(0), info.dataOffsets().get(1)));
  }

  /** The entries of header {@code text}, in file order; {@code what} names the file in messages. */
  static List<Entry> read(String text, String what) {
    return JsonRecords.read(text, SafeTensorsHeader.class, what, ModelFormatException::new).entries;
  }

  record TensorInfo(DType dtype, List<Integer> shape, List<Long> dataOffsets) {
    TensorInfo {
      if (shape.size() > SafeTensors.MAX_RANK) {
        throw new Invalid("shape", shape.size() + " dimensions", "at most " + SafeTensors.MAX_RANK);
      }
      if (dataOffsets.size() != 2 || dataOffsets.get(0) > dataOffsets.get(1)) {
        throw new Invalid("data_offsets", StrictJson.shorten(dataOffsets.toString()), "[begin, end] with begin <= end");
      }
      long bytes = numel(shape) * dtype.size;
      if (dataOffsets.get(1) - dataOffsets.get(0) != bytes) {
        throw new Invalid("data_offsets", dataOffsets + " (" + (dataOffsets.get(1) - dataOffsets.get(0)) + " bytes)",
            bytes + " bytes (" + dtype + " " + shape + ")");
      }
    }

    long numel() {
      return numel(shape);
    }

    /** Elements of {@code shape}: a 64-bit count, as the reference reader's, and at most {@link SafeTensors#MAX_NUMEL}. */
    private static long numel(List<Integer> shape) {
      long numel = 1;
      try {
        for (int d : shape) {
          numel = Math.multiplyExact(numel, d);
        }
      } catch (ArithmeticException e) {
        throw new Invalid("shape", shape.toString(), "a 64-bit element count (it overflows)");
      }
      if (numel > SafeTensors.MAX_NUMEL) {
        throw new Invalid("shape", shape + " (" + numel + " elements)", "at most " + SafeTensors.MAX_NUMEL + " elements");
      }
      return numel;
    }
  }
}
