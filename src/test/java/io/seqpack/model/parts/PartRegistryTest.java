package io.seqpack.model.parts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.seqpack.ModelFormatException;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Input kinds and recurrent modes read through the registry, as pooling kinds and head layers are. */
class PartRegistryTest {
  private static final String INPUT = "{\"name\": \"x\", \"kind\": \"tokens\", \"vocab_size\": 5, \"embedding_dim\": 2,"
      + " \"embedding\": \"emb\"}";
  private static final String RNN = "{\"module\": \"rnn\", \"mode\": \"GRU\", \"input_size\": 2, \"hidden_size\": 3}";

  private static String model(String input, String rnn) {
    return "{\"format\": \"seqpack-model/2\", \"inputs\": [" + input + "], \"rnn\": " + rnn + ", \"pooling\": [\"last\"],"
        + " \"heads\": [{\"name\": \"y\", \"layers\": [{\"type\": \"linear\", \"module\": \"fc\", \"in_features\": 3,"
        + " \"out_features\": 1}]}]}";
  }

  private static ModelGraph graph(String input, String rnn) {
    return ModelSpec.parseAny(model(input, rnn), "m").graph();
  }

  private static String refusal(String input, String rnn) {
    return assertThrows(ModelFormatException.class, () -> graph(input, rnn)).getMessage();
  }

  @Test
  void readsEachKindAndModeByItsSpelling() {
    ModelGraph g = graph(INPUT, RNN);
    assertEquals(new TokenInput("x", 5, 2, null, "emb", null), g.inputs().get(0));
    assertInstanceOf(GruMode.class, g.rnn().mode());
    assertEquals("GRU(hidden=3, layers=1, unidirectional, bias)", g.rnn().description());
    assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"),
        g.params().stream().map(ModelGraph.Param::name).filter(n -> n.startsWith("rnn.")).toList());
    assertEquals(new FeatureInput("x", 2, null),
        graph("{\"name\": \"x\", \"kind\": \"features\", \"size\": 2}", RNN).inputs().get(0));
    for (RecurrentMode mode : PartRegistry.RECURRENT_MODES.all()) {
      assertEquals(mode, graph(INPUT, RNN.replace("GRU", mode.spelling())).rnn().mode());
    }
  }

  @Test
  void refusesWhatAKindOrModeDoesNotHave() {
    assertEquals("Cannot read model.json in m: inputs[0].size: unknown field, expected one of embedding,"
        + " embedding_dim, name, norm, padding_idx, vocab_size", refusal(INPUT.replace("}", ", \"size\": 2}"), RNN));
    assertEquals("Cannot read model.json in m: inputs[0].kind: \"words\", expected one of tokens, features",
        refusal(INPUT.replace("tokens", "words"), RNN));
    assertEquals("Cannot read model.json in m: rnn.mode: {\"GRU\":{}}, expected one of RNN_TANH, RNN_RELU, LSTM, GRU",
        refusal(INPUT, RNN.replace("\"GRU\"", "{\"GRU\": {}}")));
    assertEquals("Cannot read model.json in m: rnn.c0: \"c\", expected null for mode GRU (only LSTM has a cell state)",
        refusal(INPUT, RNN.replace("}", ", \"c0\": \"c\"}")));
    assertEquals("LSTM", PartRegistry.RECURRENT_MODES.names(RecurrentMode::projects));
  }
}
