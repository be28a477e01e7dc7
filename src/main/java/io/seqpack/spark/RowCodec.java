package io.seqpack.spark;

import io.seqpack.data.RejectReason;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Reads one input row into either a {@link Valid} row ready for scoring or a {@link Rejected} one with its
 * reason and a detail that says which column, step or token was wrong. The same decoding runs in the scoring
 * pass and the rejects pass, so both passes agree on every row. This is the one definition of a valid row.
 */
final class RowCodec {
  private RowCodec() {}

  /** Either outcome of decoding. */
  sealed interface Decoded permits Valid, Rejected {}

  /**
   * A row that can be scored: per model input, its tokens (token inputs, else null) or {@code length × width}
   * features, flattened (else null); the static features in the model's order. {@code source} is kept for carried
   * columns.
   */
  record Valid(Row source, Object id, int length, int[][] tokens, float[][] features, float[] statics)
      implements Decoded {}

  record Rejected(Row source, Object id, RejectReason reason, String detail) implements Decoded {}

  static Decoded decode(Row row, ScoreSettings s) {
    Object id = s.idIndex() < 0 ? null : row.get(s.idIndex());
    if (id == null && s.idIndex() >= 0) {
      return new Rejected(row, null, RejectReason.NULL_ID, "the id column is null");
    }
    List<InputColumns.Step> steps = s.columns().steps();
    boolean single = steps.size() == 1;
    int length = -1;
    String first = null;
    for (InputColumns.Step c : steps) {
      if (row.isNullAt(c.index())) {
        return new Rejected(row, id, RejectReason.NULL_SEQUENCE,
            single ? "the sequence column is null" : "column '" + c.column() + "' is null");
      }
      int n = row.getList(c.index()).size();
      if (length < 0) {
        length = n;
        first = c.column();
      } else if (n != length) {
        return new Rejected(row, id, RejectReason.LENGTH_MISMATCH,
            "column '" + first + "' has " + length + " steps but column '" + c.column() + "' has " + n);
      }
    }
    if (length == 0) {
      return new Rejected(row, id, RejectReason.EMPTY_SEQUENCE, "the sequence has no steps");
    }
    if (s.maxLength() > 0 && length > s.maxLength()) {
      return new Rejected(
          row, id, RejectReason.TOO_LONG, "length " + length + " exceeds " + s.maxLengthName() + " " + s.maxLength());
    }
    int[][] tokens = new int[steps.size()][];
    float[][] features = new float[steps.size()][];
    for (int k = 0; k < steps.size(); k++) {
      InputColumns.Step c = steps.get(k);
      String where = single ? "" : "column '" + c.column() + "': ";
      List<Object> values = row.getList(c.index());
      Rejected bad = c.isTokens() ? decodeTokens(row, id, values, c, where, tokens, k)
          : decodeFeatures(row, id, values, c, where, features, k);
      if (bad != null) {
        return bad;
      }
    }
    float[] statics = new float[s.columns().staticWidth()];
    int at = 0;
    for (InputColumns.Static c : s.columns().statics()) {
      Rejected bad = decodeStatic(row, id, c, statics, at);
      if (bad != null) {
        return bad;
      }
      at += c.size();
    }
    return new Valid(row, id, length, tokens, features, statics);
  }

  private static Rejected decodeTokens(
      Row row, Object id, List<Object> steps, InputColumns.Step c, String where, int[][] out, int k) {
    int length = steps.size();
    int[] tokens = new int[length];
    for (int t = 0; t < length; t++) {
      Object value = steps.get(t);
      if (value == null) {
        return new Rejected(row, id, RejectReason.TOKEN_OUT_OF_RANGE, where + "token at step " + t + " is null");
      }
      long token = ((Number) value).longValue();
      if (token < 0 || token >= c.vocabSize()) {
        return new Rejected(row, id, RejectReason.TOKEN_OUT_OF_RANGE,
            where + "token " + token + " at step " + t + " is outside [0, " + c.vocabSize() + ")");
      }
      tokens[t] = (int) token;
    }
    out[k] = tokens;
    return null;
  }

  private static Rejected decodeFeatures(
      Row row, Object id, List<Object> steps, InputColumns.Step c, String where, float[][] out, int k) {
    int length = steps.size();
    int width = c.width();
    float[] features = new float[Math.multiplyExact(length, width)];
    for (int t = 0; t < length; t++) {
      Object step = steps.get(t);
      if (step == null) {
        return new Rejected(row, id, RejectReason.BAD_FEATURES, where + "step " + t + " is null");
      }
      if (c.type().isScalarSteps()) {
        Rejected bad = checkValue(row, id, step, where + "value of step " + t, features, t);
        if (bad != null) {
          return bad;
        }
        continue;
      }
      List<Object> values = asList(step);
      if (values.size() != width) {
        return new Rejected(row, id, RejectReason.BAD_FEATURES,
            where + "step " + t + " has " + values.size() + " values, expected input_size " + width);
      }
      for (int j = 0; j < width; j++) {
        Rejected bad = checkValue(row, id, values.get(j), where + "value " + j + " of step " + t, features,
            t * width + j);
        if (bad != null) {
          return bad;
        }
      }
    }
    out[k] = features;
    return null;
  }

  private static Rejected decodeStatic(Row row, Object id, InputColumns.Static c, float[] out, int at) {
    String where = "static column '" + c.column() + "'";
    if (row.isNullAt(c.index())) {
      return new Rejected(row, id, RejectReason.BAD_FEATURES, where + " is null");
    }
    if (c.scalar()) {
      return checkValue(row, id, row.get(c.index()), where, out, at);
    }
    List<Object> values = row.getList(c.index());
    if (values.size() != c.size()) {
      return new Rejected(row, id, RejectReason.BAD_FEATURES,
          where + " has " + values.size() + " values, expected " + c.size());
    }
    for (int j = 0; j < c.size(); j++) {
      Rejected bad = checkValue(row, id, values.get(j), "value " + j + " of " + where, out, at + j);
      if (bad != null) {
        return bad;
      }
    }
    return null;
  }

  /** {@code out[at] = value} as a finite float32, or the reject that explains why it cannot be. */
  private static Rejected checkValue(Row row, Object id, Object value, String what, float[] out, int at) {
    if (value == null) {
      return new Rejected(row, id, RejectReason.BAD_FEATURES, what + " is null");
    }
    double v = ((Number) value).doubleValue();
    float f = (float) v;
    if (!Float.isFinite(f)) {
      return new Rejected(row, id, RejectReason.BAD_FEATURES,
          what + " is " + v + (Double.isFinite(v) ? " (beyond float32 range)" : ""));
    }
    out[at] = f;
    return null;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> asList(Object nested) {
    if (nested instanceof List<?> list) {
      return (List<Object>) list;
    }
    return CollectionConverters.asJava((Seq<Object>) nested);
  }
}
