package io.seqpack.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ModelFormatException;
import io.seqpack.testing.Golden;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The exporter's "export" block: whether the files were checked against the module's own forward. */
class VerificationTest {
  private static final Path BILSTM = Golden.root().resolve("graph").resolve("a_bilstm_text");

  private static LoadedModel loadWithJson(String modelJson) throws IOException {
    ModelBytes bytes = ModelLoader.readDirectory(BILSTM);
    return ModelLoader.load(new ModelBytes(modelJson.getBytes(StandardCharsets.UTF_8), bytes.safetensors()), "m");
  }

  private static String goldenJson() throws IOException {
    return Files.readString(BILSTM.resolve("model.json"));
  }

  @Test
  void everyGoldenGraphExportWasVerifiedAndInspectModelSaysSo() {
    for (Path dir : Golden.graphCases()) {
      LoadedModel model = ModelLoader.load(dir);
      assertEquals(Verification.VERIFIED, model.verification(), dir.toString());
      assertTrue(ModelLoader.describe(model).contains(
          "verification: verified against the module's own forward at export\n"), dir.toString());
    }
  }

  @Test
  void noVerifyExportIsNamedAndAMissingBlockIsUnknown() throws IOException {
    String json = goldenJson();
    int at = json.indexOf(",\n  \"export\"");
    String unverified = json.substring(0, at) + ",\n  \"export\": {\"verified\": false}\n}\n";
    LoadedModel model = loadWithJson(unverified);
    assertEquals(Verification.NOT_VERIFIED, model.verification());
    assertTrue(ModelLoader.describe(model).contains(
        "verification: NOT verified against the module's forward (exported with --no-verify)"));
    assertEquals("not_verified", model.verification().spelling());
    assertEquals(Verification.UNKNOWN, loadWithJson(json.substring(0, at) + "\n}\n").verification());
    assertEquals(Verification.UNKNOWN, ModelLoader.load(Golden.root().resolve("tutorial")).verification());
  }

  @Test
  void refusesAnExportBlockItDoesNotKnow() throws IOException {
    String json = goldenJson();
    int at = json.indexOf(",\n  \"export\"");
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> loadWithJson(json.substring(0, at) + ",\n  \"export\": {\"verified\": \"yes\"}\n}\n"));
    assertEquals("Cannot read model.json in m: export.verified: \"yes\", expected true or false", e.getMessage());
    e = assertThrows(ModelFormatException.class,
        () -> loadWithJson(json.substring(0, at) + ",\n  \"export\": {\"verified\": true, \"checked\": 1}\n}\n"));
    assertTrue(e.getMessage().startsWith("Cannot read model.json in m: export.checked: unknown field"),
        e.getMessage());
  }
}
