package io.seqpack.nn;

import java.util.Arrays;

/**
 * The {@code k} best outputs of score rows, as {@code torch.topk(scores, k)} returns them: score descending, a tie
 * to the lower index ({@link Float#compare} order, so NaN ranks above everything, as in PyTorch). Items listed as
 * excluded for a row (the items it has already seen) are left out of its selection; such a row may then have
 * fewer than {@code k} entries.
 *
 * @param k entries per row at most
 * @param ids {@code [rows, k]}, row {@code r}'s entries at {@code r·k .. r·k + counts[r])}
 * @param scores {@code [rows, k]}, aligned with {@code ids}
 * @param counts entries of each row ({@code k} unless exclusions left fewer items)
 */
public record TopK(int k, int[] ids, float[] scores, int[] counts) {
  /** Row {@code r}'s item ids, best first. */
  public int[] ids(int r) {
    return Arrays.copyOfRange(ids, r * k, r * k + counts[r]);
  }

  /** Row {@code r}'s scores, best first. */
  public float[] scores(int r) {
    return Arrays.copyOfRange(scores, r * k, r * k + counts[r]);
  }

  /**
   * The top {@code k} of each of {@code count} rows of {@code values[count, width]}; {@code excluded[r]} (sorted,
   * distinct; null or a null entry for none) are left out of row {@code r}.
   */
  public static TopK of(float[] values, int count, int width, int k, int[][] excluded) {
    TopK out = empty(count, k);
    Selection selection = new Selection(k);
    for (int r = 0; r < count; r++) {
      selection.offerRow(values, r * width, 0, width, excluded == null ? null : excluded[r], 0);
      selection.drainInto(out, r);
    }
    return out;
  }

  static TopK empty(int count, int k) {
    return new TopK(k, new int[count * k], new float[count * k], new int[count]);
  }

  /**
   * A running selection of the best {@code k} (score, id) pairs of one row, fed in any number of column blocks: a
   * binary heap with the worst kept entry at its root.
   */
  static final class Selection {
    private final int k;
    private final int[] ids;
    private final float[] scores;
    private int size;

    Selection(int k) {
      this.k = k;
      this.ids = new int[k];
      this.scores = new float[k];
    }

    /** Whether (s1, i1) ranks above (s2, i2). */
    static boolean better(float s1, int i1, float s2, int i2) {
      int c = Float.compare(s1, s2);
      return c > 0 || (c == 0 && i1 < i2);
    }

    /**
     * Offers {@code values[off + j]} as item {@code first + j} for {@code j < width}, skipping the items of
     * {@code excluded} (sorted) from position {@code at}; returns where the next block's search of {@code excluded}
     * may start.
     */
    int offerRow(float[] values, int off, int first, int width, int[] excluded, int at) {
      for (int j = 0; j < width; j++) {
        // below the worst kept score: out whatever its id (most of a large catalogue); `at` catches up below
        if (size == k && values[off + j] < scores[0]) {
          continue;
        }
        int id = first + j;
        if (excluded != null) {
          while (at < excluded.length && excluded[at] < id) {
            at++;
          }
          if (at < excluded.length && excluded[at] == id) {
            continue;
          }
        }
        offer(id, values[off + j]);
      }
      return at;
    }

    void offer(int id, float score) {
      if (size < k) {
        ids[size] = id;
        scores[size] = score;
        siftUp(size++);
      } else if (better(score, id, scores[0], ids[0])) {
        ids[0] = id;
        scores[0] = score;
        siftDown(0);
      }
    }

    /** Writes the selection best first into row {@code r} of {@code out} and empties it. */
    void drainInto(TopK out, int r) {
      int n = size;
      out.counts[r] = n;
      for (int i = n - 1; i >= 0; i--) { // the root is the worst: fill from the back
        out.ids[r * k + i] = ids[0];
        out.scores[r * k + i] = scores[0];
        size--;
        ids[0] = ids[size];
        scores[0] = scores[size];
        siftDown(0);
      }
    }

    private void siftUp(int i) {
      while (i > 0) {
        int parent = (i - 1) / 2;
        if (!better(scores[parent], ids[parent], scores[i], ids[i])) {
          return;
        }
        swap(i, parent);
        i = parent;
      }
    }

    private void siftDown(int i) {
      while (true) {
        int worst = i;
        for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
          if (better(scores[worst], ids[worst], scores[child], ids[child])) {
            worst = child;
          }
        }
        if (worst == i) {
          return;
        }
        swap(i, worst);
        i = worst;
      }
    }

    private void swap(int a, int b) {
      int id = ids[a];
      ids[a] = ids[b];
      ids[b] = id;
      float s = scores[a];
      scores[a] = scores[b];
      scores[b] = s;
    }
  }
}
