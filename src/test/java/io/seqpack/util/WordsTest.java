package io.seqpack.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WordsTest {
  @Test
  void oneIsSingularEverythingElsePlural() {
    assertEquals("1 row", Words.count(1, "row"));
    assertEquals("0 rows", Words.count(0, "row"));
    assertEquals("2 outputs", Words.count(2, "output"));
    assertEquals("3 batches", Words.count(3, "batch", "batches"));
  }
}
