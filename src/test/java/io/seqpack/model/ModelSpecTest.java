package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ModelFormatException;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.HeadSpec;
import io.seqpack.model.ModelSpec.InputSpec;
import io.seqpack.model.ModelSpec.Pooling;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.model.parts.GruMode;
import io.seqpack.model.parts.LstmMode;
import io.seqpack.model.parts.RnnReluMode;
import io.seqpack.model.parts.RnnTanhMode;
import io.seqpack.model.parts.RecurrentMode;
import io.seqpack.model.ModelSpec.RnnSpec;
import io.seqpack.testing.TestJson;
import io.seqpack.util.StrictJson;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ModelSpecTest {
  private static final String TOKENS = "{\"kind\": \"tokens\", \"vocab_size\": 11, \"embedding_dim\": 100}";
  private static final String RNN = "{\"mode\": \"RNN_TANH\", \"hidden_size\": 256}";
  private static final String HEAD = "{\"pooling\": \"last\", \"out_features\": 1}";

  /** A model.json with the given sections (each a JSON object text). */
  private static String json(String input, String rnn, String head) {
    return "{\"format\": \"seqpack-model/1\", \"input\": " + input + ", \"rnn\": " + rnn + ", \"head\": " + head
        + "}";
  }

  private static String withRnn(String rnnFields) {
    return json(TOKENS, "{\"mode\": \"LSTM\", " + rnnFields + "}", HEAD);
  }

  @Test
  void parsesTheDocumentedExample() {
    String text = "{\"format\": \"seqpack-model/1\",\n"
        + " \"input\": {\"kind\": \"tokens\", \"vocab_size\": 11, \"embedding_dim\": 100, \"padding_idx\": null},\n"
        + " \"rnn\": {\"mode\": \"RNN_TANH\", \"hidden_size\": 256, \"num_layers\": 1, \"bidirectional\": false,"
        + " \"bias\": true, \"proj_size\": 0},\n"
        + " \"head\": {\"pooling\": \"last\", \"out_features\": 1, \"activation\": \"none\"}}";
    ModelSpec spec = ModelSpec.parse(text, "/m");
    assertEquals(
        new ModelSpec(
            InputSpec.tokens(11, 100, null),
            new RnnSpec(new RnnTanhMode(), 256, 1, false, true, 0),
            new HeadSpec(Pooling.LAST, 1, Activation.NONE)),
        spec);
  }

  @Test
  void appliesDefaultsForOptionalKeys() {
    ModelSpec spec = ModelSpec.parse(json(TOKENS, RNN, HEAD), "/m");
    assertNull(spec.input().paddingIdx());
    assertEquals(new RnnSpec(new RnnTanhMode(), 256, 1, false, true, 0), spec.rnn());
    assertEquals(Activation.NONE, spec.head().activation());
  }

  @Test
  void parsesFeaturesInputWithProjectedBidirectionalLstm() {
    ModelSpec spec = ModelSpec.parse(json(
        "{\"kind\": \"features\", \"input_size\": 8}",
        "{\"mode\": \"LSTM\", \"hidden_size\": 32, \"num_layers\": 3, \"bidirectional\": true, \"bias\": false,"
            + " \"proj_size\": 16}",
        "{\"pooling\": \"max\", \"out_features\": 5, \"activation\": \"softmax\"}"), "/m");
    assertEquals(InputSpec.features(8), spec.input());
    assertEquals(8, spec.input().rnnInputSize());
    assertEquals(new RnnSpec(new LstmMode(), 32, 3, true, false, 16), spec.rnn());
    assertEquals(32, spec.rnn().outputSize());
    assertEquals(new HeadSpec(Pooling.MAX, 5, Activation.SOFTMAX), spec.head());
  }

  @Test
  void parsesEveryModePoolingAndActivation() {
    for (RecurrentMode mode : PartRegistry.RECURRENT_MODES.all()) {
      for (Pooling pooling : Pooling.values()) {
        for (Activation activation : Activation.values()) {
          String head = "{\"pooling\": \"" + ModelSpec.spelling(pooling) + "\", \"out_features\": 2,"
              + " \"activation\": \"" + ModelSpec.spelling(activation) + "\"}";
          ModelSpec spec = ModelSpec.parse(
              json(TOKENS, "{\"mode\": \"" + mode.spelling() + "\", \"hidden_size\": 4}", head), "/m");
          assertEquals(mode, spec.rnn().mode());
          assertEquals(pooling, spec.head().pooling());
          assertEquals(activation, spec.head().activation());
        }
      }
    }
  }

  @Test
  void normalizesNegativePaddingIdxAsPyTorchDoes() {
    String input = "{\"kind\": \"tokens\", \"vocab_size\": 11, \"embedding_dim\": 4, \"padding_idx\": -1}";
    assertEquals(10, ModelSpec.parse(json(input, RNN, HEAD), "/m").input().paddingIdx());
    String lowest = input.replace("-1", "-11");
    assertEquals(0, ModelSpec.parse(json(lowest, RNN, HEAD), "/m").input().paddingIdx());
  }

  @Test
  void toJsonRoundTrips() {
    ModelSpec[] specs = {
      new ModelSpec(InputSpec.tokens(11, 100, 3), new RnnSpec(new GruMode(), 7, 2, true, false, 0),
          new HeadSpec(Pooling.MEAN, 3, Activation.SIGMOID)),
      new ModelSpec(InputSpec.tokens(5, 2, null), new RnnSpec(new RnnReluMode(), 1, 1, false, true, 0),
          new HeadSpec(Pooling.LAST, 1, Activation.NONE)),
      new ModelSpec(InputSpec.features(9), new RnnSpec(new LstmMode(), 8, 4, true, true, 3),
          new HeadSpec(Pooling.MAX, 2, Activation.SOFTMAX)),
    };
    for (ModelSpec spec : specs) {
      assertEquals(spec, ModelSpec.parse(TestJson.writePretty(spec.toJson()), "/m"));
      assertEquals(spec, ModelSpec.parse(TestJson.write(spec.toJson()), "/m"));
    }
    String written = TestJson.write(specs[0].toJson());
    assertTrue(written.startsWith("{\"format\":\"seqpack-model/1\",\"input\":{\"kind\":\"tokens\""), written);
    assertTrue(written.contains("\"mode\":\"GRU\""), written);
    assertTrue(written.contains("\"pooling\":\"mean\""), written);
  }

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        // JSON itself
        Arguments.of("[1]", "the top level: [1], expected an object"),
        Arguments.of(json(TOKENS, RNN, HEAD).replace("\"head\"", "\"rnn\""),
            "malformed JSON (line 1, column 154): duplicate key \"rnn\""),
        // top level
        Arguments.of(json(TOKENS, RNN, HEAD).replace("\"format\": \"seqpack-model/1\", ", ""),
            "format: missing, expected \"seqpack-model/1\""),
        Arguments.of(json(TOKENS, RNN, HEAD).replace("model/1", "model/2"),
            "format: \"seqpack-model/2\", expected \"seqpack-model/1\""),
        Arguments.of(json(TOKENS, RNN, HEAD).replace("{\"format\"", "{\"extra\": 1, \"format\""),
            "extra: unknown field, expected one of format, head, input, rnn"),
        Arguments.of(json(TOKENS, RNN, "[]"), "head: [], expected an object"),
        Arguments.of(json(TOKENS, RNN, HEAD).replace(", \"head\": " + HEAD, ""),
            "head: missing, expected an object"),
        // rnn
        Arguments.of(json(TOKENS, "{\"mode\": \"LSTMX\", \"hidden_size\": 4}", HEAD),
            "rnn.mode: \"LSTMX\", expected one of RNN_TANH, RNN_RELU, LSTM, GRU"),
        Arguments.of(json(TOKENS, "{\"mode\": \"lstm\", \"hidden_size\": 4}", HEAD),
            "rnn.mode: \"lstm\", expected one of RNN_TANH, RNN_RELU, LSTM, GRU"),
        Arguments.of(json(TOKENS, "{\"mode\": 4, \"hidden_size\": 4}", HEAD),
            "rnn.mode: 4, expected one of RNN_TANH, RNN_RELU, LSTM, GRU"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"dropout\": 0.5"),
            "rnn.dropout: unknown field, expected one of bias, bidirectional, hidden_size, mode, num_layers,"
                + " proj_size"),
        Arguments.of(withRnn("\"num_layers\": 2"), "rnn.hidden_size: missing, expected an integer in [1, 1048576]"),
        Arguments.of(withRnn("\"hidden_size\": \"256\""),
            "rnn.hidden_size: \"256\", expected an integer"),
        Arguments.of(withRnn("\"hidden_size\": 2.5"), "rnn.hidden_size: 2.5, expected an integer"),
        Arguments.of(withRnn("\"hidden_size\": 4.0"), "rnn.hidden_size: 4.0, expected an integer"),
        Arguments.of(withRnn("\"hidden_size\": 1e400"),
            "rnn.hidden_size: \"Infinity\", expected an integer"),
        Arguments.of(withRnn("\"hidden_size\": 0"), "rnn.hidden_size: 0, expected an integer in [1, 1048576]"),
        Arguments.of(withRnn("\"hidden_size\": 1048577"),
            "rnn.hidden_size: 1048577, expected an integer in [1, 1048576]"),
        Arguments.of(withRnn("\"hidden_size\": 99999999999999999999"),
            "rnn.hidden_size: 99999999999999999999, expected an integer"),
        Arguments.of(withRnn("\"hidden_size\": null"),
            "rnn.hidden_size: null, expected a value (only padding_idx, norm, h0, c0 may be null)"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"num_layers\": 0"),
            "rnn.num_layers: 0, expected an integer in [1, 1024]"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"bidirectional\": \"true\""),
            "rnn.bidirectional: \"true\", expected true or false"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"bias\": null"), "rnn.bias: null, expected a value (only padding_idx, norm, h0, c0 may be null)"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"bias\": 1"), "rnn.bias: 1, expected true or false"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"proj_size\": -1"),
            "rnn.proj_size: -1, expected an integer in [0, 1048576]"),
        Arguments.of(withRnn("\"hidden_size\": 4, \"proj_size\": 4"),
            "rnn.proj_size: 4, expected an integer less than hidden_size (4)"),
        Arguments.of(json(TOKENS, "{\"mode\": \"GRU\", \"hidden_size\": 4, \"proj_size\": 2}", HEAD),
            "rnn.proj_size: 2, expected 0 for mode GRU (only LSTM has projections)"),
        // input
        Arguments.of(json("{\"kind\": \"image\"}", RNN, HEAD),
            "input.kind: \"image\", expected one of tokens, features"),
        Arguments.of(json("{\"vocab_size\": 3}", RNN, HEAD),
            "input.kind: missing, expected one of tokens, features"),
        Arguments.of(json(TOKENS.replace("}", ", \"input_size\": 3}"), RNN, HEAD),
            "input.input_size: not a field of kind tokens, expected one of kind, vocab_size, embedding_dim, padding_idx"),
        Arguments.of(json("{\"kind\": \"features\", \"input_size\": 3, \"vocab_size\": 3}", RNN, HEAD),
            "input.vocab_size: not a field of kind features, expected one of kind, input_size"),
        Arguments.of(json("{\"kind\": \"features\"}", RNN, HEAD),
            "input.input_size: missing, expected an integer in [1, 1048576]"),
        Arguments.of(json(TOKENS.replace("11", "134217729"), RNN, HEAD),
            "input.vocab_size: 134217729, expected an integer in [1, 134217728]"),
        Arguments.of(json(TOKENS.replace("100", "0"), RNN, HEAD),
            "input.embedding_dim: 0, expected an integer in [1, 1048576]"),
        Arguments.of(json(TOKENS.replace("}", ", \"padding_idx\": 11}"), RNN, HEAD),
            "input.padding_idx: 11, expected null or an integer in [-11, 10]"),
        Arguments.of(json(TOKENS.replace("}", ", \"padding_idx\": -12}"), RNN, HEAD),
            "input.padding_idx: -12, expected null or an integer in [-11, 10]"),
        Arguments.of(json(TOKENS.replace("}", ", \"padding_idx\": \"0\"}"), RNN, HEAD),
            "input.padding_idx: \"0\", expected an integer"),
        // head
        Arguments.of(json(TOKENS, RNN, "{\"pooling\": \"avg\", \"out_features\": 1}"),
            "head.pooling: \"avg\", expected one of last, mean, max"),
        Arguments.of(json(TOKENS, RNN, "{\"pooling\": \"last\", \"out_features\": 0}"),
            "head.out_features: 0, expected an integer in [1, 1048576]"),
        Arguments.of(json(TOKENS, RNN, "{\"pooling\": \"last\", \"out_features\": 1, \"activation\": \"relu\"}"),
            "head.activation: \"relu\", expected one of none, sigmoid, softmax, log_softmax"),
        Arguments.of(json(TOKENS, RNN, "{\"pooling\": \"last\", \"out_features\": 1, \"activation\": null}"),
            "head.activation: null, expected a value (only padding_idx, norm, h0, c0 may be null)"),
        Arguments.of(json(TOKENS, RNN, "{\"pooling\": \"last\", \"out_features\": 1, \"bias\": true}"),
            "head.bias: unknown field, expected one of activation, out_features, pooling"));
  }

  @ParameterizedTest
  @MethodSource("invalidSpecs")
  void rejectsInvalidSpecWithPathAndExpectation(String text, String reason) {
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelSpec.parse(text, "/m"));
    assertEquals("Cannot read model.json in /m: " + reason, e.getMessage());
  }

  @Test
  void reportsJsonSyntaxErrorsAsModelFormatErrors() {
    for (String text : new String[] {"", "{\"format\": ", "{\"a\": 1,}", "{\"a\": 1} x", "// c\n{}"}) {
      ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelSpec.parse(text, "/m"));
      assertTrue(e.getMessage().startsWith("Cannot read model.json in /m: malformed JSON"), e.getMessage());
    }
  }

  @Test
  void rejectsNestingDeeperThanTheJsonLimit() {
    String deep = "[".repeat(StrictJson.MAX_DEPTH + 1) + "]".repeat(StrictJson.MAX_DEPTH + 1);
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> ModelSpec.parse(
            json(TOKENS, RNN, HEAD).replace("\"format\"", "\"x\": " + deep + ", \"format\""), "/m"));
    assertTrue(e.getMessage().endsWith(": malformed JSON: nesting deeper than " + StrictJson.MAX_DEPTH), e.getMessage());
  }
}
