package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The terminal progress line's text (its redrawing is checked through a pseudo-terminal in MainIT). */
class ProgressLineTest {
  @Test
  void showsRowsOfTheInputTokensRateAndElapsedTime() {
    assertEquals("seqpack: 1,234,567 of 10,000,000 rows (12%), 41.2M tokens, 494k tokens/s, 1:23",
        ProgressListener.line(1_234_567, 10_000_000, 41_234_567, 83.4));
    assertEquals("seqpack: 4 of 4 rows (100%), 23 tokens, 11 tokens/s, 0:02",
        ProgressListener.line(4, 4, 23, 2.0));
    assertEquals("seqpack: 0 of 0 rows, 0 tokens, 0 tokens/s, 1:01:05", ProgressListener.line(0, 0, 0, 3665));
  }
}
