package io.seqpack.spark;

import io.seqpack.data.RejectReason;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reads one input row into either a {@link Valid} row ready for scoring or a {@link Rejected} one with its
 * reason and a detail that says which step or token was wrong. The same decoding runs in the scoring pass
 * and the rejects pass, so both passes agree on every row.
 */
final class RowCodec {
  private RowCodec() {}

  /** Either outcome of decoding. */
  sealed interface Decoded permits Valid, Rejected {}

  /**
   * A row that can be scored: tokens (token models) or {@code length × inputSize} features, flattened.
   * {@code source} is kept for carried columns.
   */
  record Valid(Row source, Object id, int length, int[] tokens, float[] features) implements Decoded {}

  record Rejected(Row source, Object id, RejectReason reason, String detail) implements Decoded {}

  static Decoded decode(Row row, ScoreSettings s) {
    Object id = row.get(s.idIndex());
    if (id == null) {
      return new Rejected(row, null, RejectReason.NULL_ID, "the id column is null");
    }
    if (row.isNullAt(s.seqIndex())) {
      return new Rejected(row, id, RejectReason.NULL_SEQUENCE, "the sequence column is null");
    }
    List<Object> steps = row.getList(s.seqIndex());
    int length = steps.size();
    if (length == 0) {
      return new Rejected(row, id, RejectReason.EMPTY_SEQUENCE, "the sequence has no steps");
    }
    if (s.maxLength() > 0 && length > s.maxLength()) {
      return new Rejected(
          row, id, RejectReason.TOO_LONG, "length " + length + " exceeds --max-length " + s.maxLength());
    }
    return s.seqType().isTokens() ? decodeTokens(row, id, steps, s) : decodeFeatures(row, id, steps, s);
  }

  private static Decoded decodeTokens(Row row, Object id, List<Object> steps, ScoreSettings s) {
    int length = steps.size();
    int[] tokens = new int[length];
    for (int t = 0; t < length; t++) {
      Object value = steps.get(t);
      if (value == null) {
        return new Rejected(row, id, RejectReason.TOKEN_OUT_OF_RANGE, "token at step " + t + " is null");
      }
      long token = ((Number) value).longValue();
      if (token < 0 || token >= s.vocabSize()) {
        return new Rejected(
            row,
            id,
            RejectReason.TOKEN_OUT_OF_RANGE,
            "token " + token + " at step " + t + " is outside [0, " + s.vocabSize() + ")");
      }
      tokens[t] = (int) token;
    }
    return new Valid(row, id, length, tokens, null);
  }

  private static Decoded decodeFeatures(Row row, Object id, List<Object> steps, ScoreSettings s) {
    int length = steps.size();
    int width = s.inputSize();
    float[] features = new float[Math.multiplyExact(length, width)];
    for (int t = 0; t < length; t++) {
      Object step = steps.get(t);
      if (step == null) {
        return new Rejected(row, id, RejectReason.BAD_FEATURES, "step " + t + " is null");
      }
      List<Object> values = asList(step);
      if (values.size() != width) {
        return new Rejected(
            row,
            id,
            RejectReason.BAD_FEATURES,
            "step " + t + " has " + values.size() + " values, expected input_size " + width);
      }
      for (int j = 0; j < width; j++) {
        Object value = values.get(j);
        if (value == null) {
          return new Rejected(row, id, RejectReason.BAD_FEATURES, "value " + j + " of step " + t + " is null");
        }
        double v = ((Number) value).doubleValue();
        float f = (float) v;
        if (!Float.isFinite(f)) {
          return new Rejected(
              row,
              id,
              RejectReason.BAD_FEATURES,
              "value " + j + " of step " + t + " is " + v + (Double.isFinite(v) ? " (beyond float32 range)" : ""));
        }
        features[t * width + j] = f;
      }
    }
    return new Valid(row, id, length, null, features);
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object nested) {
    if (nested instanceof List<?> list) {
      return (List<Object>) list;
    }
    return CollectionConverters.asJava((Seq<Object>) nested);
  }
}
