package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ModelFormatException;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.HeadSpec;
import io.seqpack.model.ModelSpec.InputSpec;
import io.seqpack.model.ModelSpec.Pooling;
import io.seqpack.model.parts.GruMode;
import io.seqpack.model.parts.LstmMode;
import io.seqpack.model.parts.RnnReluMode;
import io.seqpack.model.parts.RnnTanhMode;
import io.seqpack.model.ModelSpec.RnnSpec;
import io.seqpack.testing.TestJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ModelLoaderTest {
  @TempDir Path tmp;

  /** The model.json example of the format documentation. */
  private static final ModelSpec EXAMPLE = new ModelSpec(
      InputSpec.tokens(11, 100, null),
      new RnnSpec(new RnnTanhMode(), 256, 1, false, true, 0),
      new HeadSpec(Pooling.LAST, 1, Activation.NONE));

  private static final ModelSpec LSTM = new ModelSpec(
      InputSpec.tokens(7, 64, 0),
      new RnnSpec(new LstmMode(), 256, 1, false, true, 0),
      new HeadSpec(Pooling.MEAN, 2, Activation.SOFTMAX));

  static Stream<ModelSpec> specs() {
    return Stream.of(
        EXAMPLE,
        LSTM,
        new ModelSpec(InputSpec.features(3), new RnnSpec(new RnnReluMode(), 5, 2, false, true, 0),
            new HeadSpec(Pooling.MAX, 1, Activation.SIGMOID)),
        new ModelSpec(InputSpec.tokens(9, 4, 8), new RnnSpec(new GruMode(), 6, 2, true, false, 0),
            new HeadSpec(Pooling.LAST, 3, Activation.NONE)),
        new ModelSpec(InputSpec.features(4), new RnnSpec(new LstmMode(), 8, 3, true, true, 3),
            new HeadSpec(Pooling.MEAN, 2, Activation.SOFTMAX)));
  }

  /** Random tensors with exactly the shapes {@code spec} calls for. */
  private static Map<String, Tensor> weights(ModelSpec spec) {
    Random random = new Random(7);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    ModelLoader.expectedShapes(spec).forEach((name, shape) -> tensors.put(name, randomTensor(name, shape, random)));
    return tensors;
  }

  private static Tensor randomTensor(String name, int[] shape, Random random) {
    float[] data = new float[Math.toIntExact(new Tensor(name, shape, null).numel())];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    return new Tensor(name, shape, data);
  }

  /** Writes a model directory with the spec's tensors after {@code edit} has changed them. */
  private Path modelDir(ModelSpec spec, Consumer<Map<String, Tensor>> edit) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "model");
    Map<String, Tensor> tensors = weights(spec);
    edit.accept(tensors);
    Files.writeString(dir.resolve("model.json"), TestJson.writePretty(spec.toJson()));
    Files.write(dir.resolve("model.safetensors"), SafeTensors.write(tensors, Map.of("format", "pt")));
    return dir;
  }

  private Path modelDir(ModelSpec spec) throws IOException {
    return modelDir(spec, tensors -> {});
  }

  private static String loadError(Path dir) {
    return assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage();
  }

  // ------------------------------------------------------------------------------------------- valid models

  @ParameterizedTest
  @MethodSource("specs")
  void loadsEveryModeWithTheTensorsItWasGiven(ModelSpec spec) throws IOException {
    LoadedModel model = ModelLoader.load(modelDir(spec));
    assertEquals(spec, model.spec());
    Map<String, Tensor> written = weights(spec);
    assertEquals(List.copyOf(written.keySet()), List.copyOf(model.tensors().keySet()));
    for (Tensor t : written.values()) {
      assertArrayEquals(t.shape(), model.tensor(t.name()).shape(), t.name());
      assertArrayEquals(t.data(), model.tensor(t.name()).data(), t.name());
    }
  }

  @Test
  void expectsPyTorchShapesForProjectedBidirectionalLstm() {
    ModelSpec spec = new ModelSpec(InputSpec.features(4), new RnnSpec(new LstmMode(), 8, 2, true, true, 3),
        new HeadSpec(Pooling.LAST, 5, Activation.NONE));
    Map<String, int[]> shapes = ModelLoader.expectedShapes(spec);
    assertEquals(List.of(
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "rnn.weight_hr_l0",
        "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse", "rnn.bias_hh_l0_reverse",
        "rnn.weight_hr_l0_reverse",
        "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1", "rnn.weight_hr_l1",
        "rnn.weight_ih_l1_reverse", "rnn.weight_hh_l1_reverse", "rnn.bias_ih_l1_reverse", "rnn.bias_hh_l1_reverse",
        "rnn.weight_hr_l1_reverse",
        "fc.weight", "fc.bias"), List.copyOf(shapes.keySet()));
    assertArrayEquals(new int[] {32, 4}, shapes.get("rnn.weight_ih_l0"));
    assertArrayEquals(new int[] {32, 3}, shapes.get("rnn.weight_hh_l0"));
    assertArrayEquals(new int[] {32}, shapes.get("rnn.bias_hh_l0_reverse"));
    assertArrayEquals(new int[] {3, 8}, shapes.get("rnn.weight_hr_l0_reverse"));
    assertArrayEquals(new int[] {32, 6}, shapes.get("rnn.weight_ih_l1")); // 2 directions * proj_size
    assertArrayEquals(new int[] {5, 6}, shapes.get("fc.weight"));
    assertArrayEquals(new int[] {5}, shapes.get("fc.bias"));
  }

  @Test
  void expectsEmbeddingAndNoBiasesWhenBiasIsOff() {
    ModelSpec spec = new ModelSpec(InputSpec.tokens(11, 100, null), new RnnSpec(new GruMode(), 16, 1, false, false, 0),
        new HeadSpec(Pooling.LAST, 1, Activation.NONE));
    Map<String, int[]> shapes = ModelLoader.expectedShapes(spec);
    assertEquals(List.of("embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "fc.weight", "fc.bias"),
        List.copyOf(shapes.keySet()));
    assertArrayEquals(new int[] {11, 100}, shapes.get("embedding.weight"));
    assertArrayEquals(new int[] {48, 100}, shapes.get("rnn.weight_ih_l0"));
    assertArrayEquals(new int[] {48, 16}, shapes.get("rnn.weight_hh_l0"));
  }

  @Test
  void loadsFromBytesAsFromTheDirectory() throws IOException {
    Path dir = modelDir(LSTM);
    LoadedModel fromDir = ModelLoader.load(dir);
    LoadedModel fromBytes = ModelLoader.load(ModelLoader.readDirectory(dir), "broadcast");
    assertEquals(fromDir.contentHash(), fromBytes.contentHash());
    assertEquals(fromDir.spec(), fromBytes.spec());
    assertArrayEquals(fromDir.tensor("fc.weight").data(), fromBytes.tensor("fc.weight").data());
  }

  // ------------------------------------------------------------------------------------------- mismatches

  @Test
  void rejectsMissingTensorNamingTheSettingThatNeedsIt() throws IOException {
    Path dir = modelDir(EXAMPLE, t -> t.remove("rnn.bias_hh_l0"));
    assertEquals("Cannot load model " + dir + ": tensor rnn.bias_hh_l0 is missing from model.safetensors"
        + " (model.json says bias=true)", loadError(dir));

    ModelSpec bidirectional = new ModelSpec(EXAMPLE.input(), new RnnSpec(new GruMode(), 4, 2, true, true, 0),
        EXAMPLE.head());
    Path dir2 = modelDir(bidirectional, t -> {
      t.remove("rnn.weight_hh_l0_reverse");
      t.remove("rnn.weight_ih_l1");
      t.remove("embedding.weight");
    });
    assertEquals("Cannot load model " + dir2 + ": tensor embedding.weight is missing from model.safetensors"
        + " (model.json says input seq (kind=tokens)); also missing: rnn.weight_hh_l0_reverse, rnn.weight_ih_l1",
        loadError(dir2));
  }

  @Test
  void rejectsTensorsTheSpecDoesNotDescribe() throws IOException {
    Path dir = modelDir(EXAMPLE, t -> {
      t.put("rnn.weight_ih_l1", new Tensor("rnn.weight_ih_l1", new int[] {1}, new float[1]));
      t.put("extra", new Tensor("extra", new int[] {1}, new float[1]));
    });
    assertEquals("Cannot load model " + dir + ": model.safetensors has tensors model.json does not describe:"
        + " extra, rnn.weight_ih_l1 (check mode, num_layers, bidirectional, bias, proj_size and kind)",
        loadError(dir));
  }

  @Test
  void rejectsMisshapenTensorWithExpectedShapeExplained() throws IOException {
    Path dir = modelDir(LSTM,
        t -> t.put("rnn.weight_ih_l0", new Tensor("rnn.weight_ih_l0", new int[] {512, 64}, new float[512 * 64])));
    assertEquals("Invalid tensor rnn.weight_ih_l0 in " + dir + "/model.safetensors: shape [512, 64], expected"
        + " [1024, 64] (4*hidden_size, embedding_dim)", loadError(dir));

    Path dir2 = modelDir(EXAMPLE, t -> t.put("fc.weight", new Tensor("fc.weight", new int[] {256}, new float[256])));
    assertEquals("Invalid tensor fc.weight in " + dir2 + "/model.safetensors: shape [256], expected [1, 256]"
        + " (out_features, in_features)", loadError(dir2));
  }

  @Test
  void rejectsModelWhoseModeDisagreesWithItsWeights() throws IOException {
    ModelSpec gru = new ModelSpec(LSTM.input(), new RnnSpec(new GruMode(), 256, 1, false, true, 0), LSTM.head());
    Path dir = modelDir(LSTM);
    Files.writeString(dir.resolve("model.json"), TestJson.writePretty(gru.toJson()));
    assertEquals("Invalid tensor rnn.weight_ih_l0 in " + dir + "/model.safetensors: shape [1024, 64], expected"
        + " [768, 64] (3*hidden_size, embedding_dim)", loadError(dir));
  }

  @Test
  void reportsSpecAndSafetensorsErrorsWithTheDirectory() throws IOException {
    Path dir = modelDir(EXAMPLE);
    Files.writeString(dir.resolve("model.json"), "{\"format\": \"seqpack-model/1\"}");
    assertEquals("Cannot read model.json in " + dir + ": input: missing, expected an object", loadError(dir));

    Files.write(dir.resolve("model.json"), new byte[] {'{', (byte) 0xFF, '}'});
    assertEquals("Cannot read model.json in " + dir + ": the file is not valid UTF-8 at byte 1", loadError(dir));

    Path dir2 = modelDir(EXAMPLE);
    Files.write(dir2.resolve("model.safetensors"), new byte[] {1, 2, 3});
    assertEquals("Cannot read safetensors file " + dir2 + "/model.safetensors: file is 3 bytes, expected at least"
        + " 8 (the header length)", loadError(dir2));
  }

  // ------------------------------------------------------------------------------------------- files

  @Test
  void rejectsMissingOrWrongFiles() throws IOException {
    Path missing = tmp.resolve("nope");
    assertEquals("Cannot read model directory " + missing + ": it does not exist", loadError(missing));

    Path plainFile = Files.writeString(tmp.resolve("file"), "x");
    assertEquals("Cannot read model directory " + plainFile + ": it is not a directory", loadError(plainFile));

    Path noJson = modelDir(EXAMPLE);
    Files.delete(noJson.resolve("model.json"));
    assertEquals("Cannot read model directory " + noJson + ": model.json is missing", loadError(noJson));

    Path noWeights = modelDir(EXAMPLE);
    Files.delete(noWeights.resolve("model.safetensors"));
    assertEquals("Cannot read model directory " + noWeights + ": model.safetensors is missing", loadError(noWeights));

    Path jsonIsDir = modelDir(EXAMPLE);
    Files.delete(jsonIsDir.resolve("model.json"));
    Files.createDirectory(jsonIsDir.resolve("model.json"));
    assertEquals("Cannot read model directory " + jsonIsDir + ": model.json is not a regular file",
        loadError(jsonIsDir));

    Path hugeJson = modelDir(EXAMPLE);
    Files.write(hugeJson.resolve("model.json"), new byte[(int) ModelLoader.MAX_JSON_BYTES + 1]);
    assertEquals("Cannot read model directory " + hugeJson + ": model.json is 1048577 bytes, expected at most"
        + " 1048576", loadError(hugeJson));
  }

  // ------------------------------------------------------------------------------------------- values

  @Test
  void refusesNonFiniteWeightsUnlessAllowed() throws IOException {
    Path dir = modelDir(EXAMPLE, t -> t.get("rnn.weight_hh_l0").data()[2 * 256 + 5] = Float.NaN);
    assertEquals("Cannot load model " + dir + ": tensor rnn.weight_hh_l0 has NaN at index [2, 5], expected finite"
        + " values (non-finite weights must be allowed explicitly)", loadError(dir));

    LoadedModel allowed = ModelLoader.load(ModelLoader.readDirectory(dir), dir.toString(), true);
    assertTrue(Float.isNaN(allowed.tensor("rnn.weight_hh_l0").data()[2 * 256 + 5]));

    Path inf = modelDir(EXAMPLE, t -> t.get("fc.bias").data()[0] = Float.NEGATIVE_INFINITY);
    assertEquals("Cannot load model " + inf + ": tensor fc.bias has -Infinity at index [0], expected finite"
        + " values (non-finite weights must be allowed explicitly)", loadError(inf));
  }

  // ------------------------------------------------------------------------------------------- identity

  @Test
  void contentHashIsSha256OfBothFilesAndChangesWithOneByte() throws Exception {
    Path dir = modelDir(LSTM);
    ModelBytes bytes = ModelLoader.readDirectory(dir);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(bytes.modelJson());
    sha.update(bytes.safetensors());
    String expected = HexFormat.of().formatHex(sha.digest());

    LoadedModel model = ModelLoader.load(dir);
    assertEquals(expected, model.contentHash());
    assertTrue(model.contentHash().matches("[0-9a-f]{64}"), model.contentHash());
    assertEquals(expected, ModelLoader.load(dir).contentHash());

    byte[] weights = bytes.safetensors().clone();
    weights[weights.length - 1] ^= 1; // lowest mantissa bit of the last fc.bias value: still a valid model
    String changed = ModelLoader.load(new ModelBytes(bytes.modelJson(), weights), "m").contentHash();
    assertNotEquals(expected, changed);

    byte[] json = (new String(bytes.modelJson(), StandardCharsets.UTF_8) + " ").getBytes(StandardCharsets.UTF_8);
    assertNotEquals(expected, ModelLoader.load(new ModelBytes(json, bytes.safetensors()), "m").contentHash());
  }

  @Test
  void describeShowsArchitectureParametersTensorsAndHash() throws IOException {
    LoadedModel model = ModelLoader.load(modelDir(EXAMPLE));
    String text = ModelLoader.describe(model);
    List<String> lines = text.lines().toList();
    assertEquals("format:       seqpack-model/1", lines.get(0));
    assertEquals("architecture: tokens(vocab=11, dim=100) → RNN_TANH(hidden=256, layers=1, unidirectional, bias)"
        + " → last → Linear(256→1) → none", lines.get(1));
    assertEquals(List.of("inputs (per step, in concat order):", "  seq: tokens(vocab=11, dim=100)", "heads:",
        "  scores: Linear(256→1) → none → 1 output"), lines.subList(2, 6));
    // 11*100 + 256*100 + 256*256 + 256 + 256 + 256 + 1
    assertEquals("verification: not recorded (a model.json without an \"export\" block: an older export, or "
        + "written by hand)", lines.get(6));
    assertEquals("parameters:   93,005", lines.get(7));
    assertEquals("content hash: " + model.contentHash(), lines.get(8));
    assertEquals("tensors:", lines.get(9));
    assertEquals(List.of(
        "  embedding.weight  [11, 100]",
        "  rnn.weight_ih_l0  [256, 100]",
        "  rnn.weight_hh_l0  [256, 256]",
        "  rnn.bias_ih_l0    [256]",
        "  rnn.bias_hh_l0    [256]",
        "  fc.weight         [1, 256]",
        "  fc.bias           [1]"), lines.subList(10, lines.size()));
  }

  @Test
  void architectureLineShowsEverySetting() {
    ModelSpec spec = new ModelSpec(InputSpec.features(4), new RnnSpec(new LstmMode(), 8, 2, true, false, 3),
        new HeadSpec(Pooling.MAX, 5, Activation.SOFTMAX));
    assertEquals("features(size=4) → LSTM(hidden=8, proj=3, layers=2, bidirectional, no bias) → max"
        + " → Linear(6→5) → softmax", ModelLoader.architecture(spec));
    assertEquals("tokens(vocab=9, dim=4, padding_idx=8) → GRU(hidden=6, layers=2, bidirectional, no bias) → last"
        + " → Linear(12→3) → none", ModelLoader.architecture(specs().toList().get(3)));
  }

  @Test
  void loadedTensorsCannotBeReplaced() throws IOException {
    LoadedModel model = ModelLoader.load(modelDir(EXAMPLE));
    Tensor fc = model.tensor("fc.bias");
    assertThrows(UnsupportedOperationException.class, () -> model.tensors().put("fc.bias", fc));
    assertSame(fc, model.tensors().get("fc.bias"));
  }
}
