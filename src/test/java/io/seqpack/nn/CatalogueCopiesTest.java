package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.testing.Golden;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A large item catalogue is held once on the heap (issue 21's 1,000,000 × 128 table in 1 GiB): the engine looks
 * items up in the model's own embedding array, and does not fold the table with {@code W_ih} into a {@code [items,
 * 3·hidden]} vocabulary table above the bound (1,000,000 items × 384 floats would be 1.5 GB).
 */
class CatalogueCopiesTest {
  private static final Path TIED = Golden.root().resolve("graph/m_gru4rec_tied"); // 60 items × 8, GRU 8

  @Test
  void aTableOverTheFoldBoundIsLookedUpInTheModelsOwnArray() {
    LoadedModel model = ModelLoader.load(TIED);
    long folded = 60L * 3 * 8; // items × G·H: what the fold would allocate
    SequenceModel engine = new SequenceModel(model, new SequenceModel.Options(folded - 1));
    assertFalse(engine.usesVocabTable(), "a fold over the bound must not be built");
    assertSame(model.tensor("item_emb.weight").data(), engine.tokenVectors(0),
        "the embedding lookup must read the loaded tensor, not a copy");
    assertTrue(new SequenceModel(model, new SequenceModel.Options(folded)).usesVocabTable(),
        "at the bound the fold is built (the assertion above is not vacuous)");
  }

  @Test
  void theDefaultBoundRefusesAMillionItemFold() {
    assertTrue(1_000_000L * 3 * 128 > SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS);
  }
}
