package io.seqpack.summary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqpack.SeqpackException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary's codec: exact round trips, the format check and one path-bearing line per bad value. */
class RunSummaryTest {
  private static final String SOURCE = "out/_seqpack_summary.json";

  /** Plain JSON maps (integers as Long), to edit a written summary into one the codec must refuse. */
  private static final ObjectMapper PLAIN = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);

  @TempDir Path tmp;

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parse(String text) {
    try {
      return PLAIN.readValue(text, LinkedHashMap.class);
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  private static String write(Map<String, Object> json) {
    try {
      return PLAIN.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  /** The example as the parsed JSON map, changed by {@code edit}, read back through the codec. */
  private static SeqpackException refused(Consumer<Map<String, Object>> edit) {
    Map<String, Object> json = parse(ExampleSummary.build().toJson());
    edit.accept(json);
    return assertThrows(SeqpackException.class, () -> RunSummary.fromJson(write(json), SOURCE));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Object value) {
    return (Map<String, Object>) value;
  }

  private static Map<String, Object> item(Map<String, Object> json, String key, int index) {
    return object(((List<?>) json.get(key)).get(index));
  }

  @Test
  void writeThenReadGivesTheSameRecord() {
    ExampleSummary batch = ExampleSummary.builder();
    batch.run = null;
    batch.skippedFiles = List.of(new RunSummary.SkippedFile("file:/in/x.parquet", "the file is empty (0 bytes)"));
    // no --seq-col: the CLI's default, the model's input names pick the columns
    Map<String, Integer> topK = new LinkedHashMap<>(); // in the model's head order, which the file keeps
    topK.put("next_item", 20);
    topK.put("category", 5);
    batch.settings = new RunSummary.Settings("id", null, Map.of("event", "event_ids", "amount", "amounts"),
        List.of("day"), List.of("day"), true, true, 0, 200, 8, "local[2]", 1.0, true, topK, "event");
    for (RunSummary s : List.of(ExampleSummary.build(), ExampleSummary.nothingNew(), batch.summary())) {
      String text = s.toJson();
      RunSummary read = RunSummary.fromJson(text, SOURCE);
      assertEquals(s, read);
      assertEquals(text, read.toJson(), "and writes the same text again");
    }
  }

  @Test
  void theFileStartsWithItsFormatAndKeepsTheJobsKeyNames() {
    String text = ExampleSummary.build().toJson();
    assertTrue(text.startsWith("{\n  \"summary_format\": 2,\n  \"run\": {\n    \"id\": 412,\n"), text);
    Map<String, Object> json = parse(text);
    assertEquals(List.of("summary_format", "run", "seqpack_version", "status", "started_at", "command_line", "model_dir", "model_hash", "model_verification",
        "model_card", "input", "output", "rejects", "input_files", "skipped_files", "input_rows", "scored_rows", "rejected_rows", "rejects_by_reason",
        "reject_examples", "tokens_scored", "batches", "mean_batch_fill", "wall_seconds", "tokens_per_second", "engine_seconds",
        "executors", "kernels", "executor_memory", "settings", "length_histogram", "buckets", "score_histograms", "throughput", "score_deciles"),
        List.copyOf(json.keySet()));
    assertEquals(List.of("id", "incremental", "status", "checkpoint", "new_file_count", "new_files", "new_rows",
        "accounting_check", "removed_uncommitted_files", "total_scored_rows", "total_rejected_rows"),
        List.copyOf(object(json.get("run")).keySet()));
    assertEquals("ok", object(json.get("run")).get("accounting_check"));
    assertEquals(List.of("id_col", "seq_col", "columns", "keep_cols", "partition_by", "per_step", "emit_embedding",
        "max_length", "batch_tokens", "max_batch_rows", "master", "max_reject_fraction", "skip_corrupt_files",
        "top_k", "top_k_exclude_seen"),
        List.copyOf(object(json.get("settings")).keySet()));
    assertEquals(List.of("min_length", "max_length", "rows", "tokens", "batches", "padded_slots"),
        List.copyOf(item(json, "buckets", 0).keySet()));
    assertEquals(List.of("head", "output", "bin_edges", "counts", "underflow", "overflow", "nan"),
        List.copyOf(item(json, "score_histograms", 0).keySet()));
    assertEquals(List.of("seconds", "rows", "tokens"), List.copyOf(item(json, "throughput", 0).keySet()));
    assertEquals(List.of(1L, 9L, 17L), ((List<?>) object(json.get("length_histogram")).get("bin_edges")).subList(0, 3));

    ExampleSummary skipped = ExampleSummary.builder();
    skipped.skippedFiles = List.of(new RunSummary.SkippedFile("file:/in/x.parquet", "the file is empty (0 bytes)"));
    assertEquals(Map.of("path", "file:/in/x.parquet", "reason", "the file is empty (0 bytes)", "rows", "not read"),
        item(parse(skipped.summary().toJson()), "skipped_files", 0));
  }

  @Test
  @SuppressWarnings("unchecked")
  void summariesWithoutTheRunHeaderOrRejectExamplesStillRead() {
    RunSummary s = ExampleSummary.build();
    Map<String, Object> json = parse(s.toJson());
    for (String newer : List.of("status", "started_at", "command_line", "reject_examples", "model_card")) {
      json.remove(newer);
    }
    for (int i = 0; i < 2; i++) { // older versions binned the first head only, as "feature"
      Map<String, Object> h = item(json, "score_histograms", i);
      h.remove("head");
      Object output = h.remove("output");
      Map<String, Object> older = new java.util.LinkedHashMap<>();
      older.put("feature", i);
      older.putAll(h);
      ((List<Object>) json.get("score_histograms")).set(i, older);
      assertEquals(0L, ((Number) output).longValue());
    }
    RunSummary older = RunSummary.fromJson(write(json), SOURCE);
    assertEquals(java.util.Arrays.asList(null, null), older.scoring().scoreHistograms().stream()
        .map(RunSummary.ScoreHistogram::head).toList());
    assertEquals(List.of(0, 1), older.scoring().scoreHistograms().stream().map(RunSummary.ScoreHistogram::output)
        .toList());
    assertEquals(s.scoring().scoreHistograms().get(1).counts(), older.scoring().scoreHistograms().get(1).counts());
    assertNull(older.scoring().modelCard());
    assertNull(older.status());
    assertNull(older.startedAt());
    assertEquals(List.of(), older.commandLine());
    assertEquals(Map.of(), older.rejectExamples());
    assertEquals(s.rejectsByReason(), older.rejectsByReason());
    assertEquals(RunSummary.Status.REFUSED_DRIFT,
        RunSummary.fromJson(s.withStatus(RunSummary.Status.REFUSED_DRIFT).toJson(), SOURCE).status());
    assertTrue(s.withStatus(RunSummary.Status.TOO_MANY_REJECTS).toJson().contains("\"status\": \"too_many_rejects\""));
  }

  @Test
  void aRunThatScoredNothingHasNoScoringKeys() {
    RunSummary empty = ExampleSummary.nothingNew();
    Map<String, Object> json = parse(empty.toJson());
    for (String key : RunSummary.Scoring.KEYS) {
      assertTrue(!json.containsKey(key), key);
    }
    assertEquals(Map.of(), json.get("rejects_by_reason"));
    assertNull(RunSummary.fromJson(empty.toJson(), SOURCE).scoring());
  }

  @Test
  void unknownKeysAreRefusedNamingTheirPath() {
    assertEquals("Cannot read summary " + SOURCE + ": written_by_a_later_version: unknown field, expected one of "
        + "batches, command_line, input, input_files, input_rows, model_dir, output, reject_examples, rejected_rows, "
        + "rejects, rejects_by_reason, run, scored_rows, seqpack_version, skipped_files, started_at, status, "
        + "summary_format, tables, tokens_scored, wall_seconds",
        refused(json -> json.put("written_by_a_later_version", List.of(1, 2))).getMessage());
    assertEquals("Cannot read summary " + SOURCE + ": run.note: unknown field, expected one of checkpoint, id, "
        + "new_file_count, new_files, new_rows, removed_uncommitted_files, total_rejected_rows, total_scored_rows",
        refused(json -> object(json.get("run")).put("note", "x")).getMessage());
    assertEquals("Cannot read summary " + SOURCE + ": settings.columns_: unknown field, expected one of batch_tokens, columns, "
        + "emit_embedding, id_col, keep_cols, master, max_batch_rows, max_length, max_reject_fraction, partition_by, "
        + "per_step, seq_col, skip_corrupt_files, top_k, top_k_exclude_seen",
        refused(json -> object(json.get("settings")).put("columns_", Map.of())).getMessage());
  }

  @Test
  void malformedJsonIsRefusedWithItsPosition() {
    String text = ExampleSummary.build().toJson();
    SeqpackException e = assertThrows(SeqpackException.class,
        () -> RunSummary.fromJson(text.replace("\"batches\": ", "\"input_rows\": 1, \"batches\": "), SOURCE));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + SOURCE + ": malformed JSON (line "), e.getMessage());
    assertTrue(e.getMessage().contains("duplicate key \"input_rows\""), e.getMessage());
    e = assertThrows(SeqpackException.class, () -> RunSummary.fromJson(text + "{}", SOURCE));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + SOURCE + ": "), e.getMessage());
    e = assertThrows(SeqpackException.class, () -> RunSummary.fromJson(text.replace("}\n", "},\n"), SOURCE));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + SOURCE + ": malformed JSON (line "), e.getMessage());
  }

  @Test
  void otherFormatsAreRefusedNamingTheFormatFound() {
    SeqpackException e = refused(json -> json.remove("summary_format"));
    assertEquals("Cannot read summary " + SOURCE + ": it has no summary_format (written by seqpack 0.1); this "
        + "seqpack reads summary format 2: rerun the job, or use seqpack 0.1's 'seqpack report' to draw it",
        e.getMessage());
    e = refused(json -> json.put("summary_format", 1L));
    assertEquals("Cannot read summary " + SOURCE + ": summary_format is 1 (written by seqpack 0.1); this seqpack "
        + "reads summary format 2: rerun the job, or use seqpack 0.1's 'seqpack report' to draw it", e.getMessage());
    e = refused(json -> json.put("summary_format", 3L));
    assertEquals("Cannot read summary " + SOURCE + ": summary_format is 3; this seqpack reads summary format 2: "
        + "rerun the job, or use the 'seqpack report' of the seqpack version that wrote it", e.getMessage());
    e = refused(json -> json.put("summary_format", "2"));
    assertEquals("Cannot read summary " + SOURCE + ": summary_format: expected the integer 2, found \"2\"",
        e.getMessage());
    // checked first: a seqpack 0.1 summary fails on its format, not on the first key that differs
    e = assertThrows(SeqpackException.class, () -> RunSummary.fromJson("{\"input_rows\": 12}", SOURCE));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + SOURCE + ": it has no summary_format"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aValueOfTheWrongTypeIsNamedByItsPath() {
    String cannot = "Cannot read summary " + SOURCE + ": ";
    assertEquals(cannot + "buckets: \"five\", expected an array",
        refused(json -> json.put("buckets", "five")).getMessage());
    assertEquals(cannot + "buckets[2].max_length: \"many\", expected an integer >= 0",
        refused(json -> item(json, "buckets", 2).put("max_length", "many")).getMessage());
    assertEquals(cannot + "buckets[2].rows: -1, expected an integer >= 0",
        refused(json -> item(json, "buckets", 2).put("rows", -1L)).getMessage());
    assertEquals(cannot + "buckets[1]: 7, expected an object",
        refused(json -> ((List<Object>) json.get("buckets")).set(1, 7L)).getMessage());
    assertEquals(cannot + "length_histogram: 32 bin_edges for 32 counts; expected one more edge than counts",
        refused(json -> ((List<?>) object(json.get("length_histogram")).get("bin_edges")).remove(0)).getMessage());
    assertEquals(cannot + "score_histograms[1]: bin_edges do not increase at index 3",
        refused(json -> ((List<Object>) item(json, "score_histograms", 1).get("bin_edges")).set(3, -20.0))
            .getMessage());
    assertEquals(cannot + "score_histograms[0].counts[4]: 2.5, expected an integer >= 0",
        refused(json -> ((List<Object>) item(json, "score_histograms", 0).get("counts")).set(4, 2.5)).getMessage());
    assertEquals(cannot + "wall_seconds: null, expected a number",
        refused(json -> json.put("wall_seconds", null)).getMessage());
    assertEquals(cannot + "throughput[0].tokens: missing",
        refused(json -> item(json, "throughput", 0).remove("tokens")).getMessage());
    assertEquals(cannot + "rejects_by_reason.TOO_LONG: \"120\", expected an integer >= 0",
        refused(json -> object(json.get("rejects_by_reason")).put("TOO_LONG", "120")).getMessage());
    assertEquals(cannot + "run.new_files[1]: 5, expected a string",
        refused(json -> ((List<Object>) object(json.get("run")).get("new_files")).set(1, 5L)).getMessage());
    assertEquals(cannot + "settings.seq_col: 3, expected a string",
        refused(json -> object(json.get("settings")).put("seq_col", 3L)).getMessage());
    assertEquals(cannot + "settings.per_step: \"no\", expected true or false",
        refused(json -> object(json.get("settings")).put("per_step", "no")).getMessage());
    assertEquals(cannot + "run: [], expected an object",
        refused(json -> json.put("run", List.of())).getMessage());
    // the scoring keys come together: one without the others is a missing key, not a run that scored nothing
    assertEquals(cannot + "model_hash: missing",
        refused(json -> json.remove("model_hash")).getMessage());
    // model_verification came later: a summary written before it reads as "unknown", not as a broken file
    Map<String, Object> older = parse(ExampleSummary.build().toJson());
    older.remove("model_verification");
    assertEquals("unknown", RunSummary.fromJson(write(older), SOURCE).scoring().modelVerification());
    // so did the top-k settings: a summary without them scored whole vectors
    Map<String, Object> beforeTopK = parse(ExampleSummary.build().toJson());
    object(beforeTopK.get("settings")).remove("top_k");
    object(beforeTopK.get("settings")).remove("top_k_exclude_seen");
    RunSummary.Settings read = RunSummary.fromJson(write(beforeTopK), SOURCE).scoring().settings();
    assertEquals(Map.of(), read.topK());
    assertNull(read.topKExcludeSeen());
    // JSON has no infinity, but a number literal can overflow to it
    SeqpackException e = assertThrows(SeqpackException.class, () -> RunSummary.fromJson(
        ExampleSummary.build().toJson().replace("\"wall_seconds\": 93.418", "\"wall_seconds\": 1e400"), SOURCE));
    assertEquals(cannot + "wall_seconds: Infinity, expected a finite number", e.getMessage());
  }

  @Test
  void readNamesTheFileInEveryError() throws Exception {
    Path file = tmp.resolve(RunSummary.FILE);
    Files.writeString(file, ExampleSummary.build().toJson().replace("\"summary_format\": 2", "\"summary_format\": 7"));
    SeqpackException e = assertThrows(SeqpackException.class, () -> RunSummary.read(file));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + file + ": summary_format is 7; "), e.getMessage());
    Files.writeString(file, ExampleSummary.build().toJson());
    assertEquals(ExampleSummary.build(), RunSummary.read(file));
  }

  @Test
  void theRecordHoldsItsInvariants() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RunSummary.LengthHistogram(List.of(1L, 2L), List.of(5L, 6L)));
    assertEquals("2 bin_edges for 2 counts; expected one more edge than counts",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new RunSummary.ScoreHistogram("h", 3, List.of(0.0, 0.5, 0.5), List.of(1L, 2L), 0, 0, 0));
    assertEquals("bin_edges do not increase at index 2", e.getMessage());
    // maps are sorted copies: the file lists reasons in a stable order whatever map the job passed
    ExampleSummary b = ExampleSummary.builder();
    b.rejectsByReason = new java.util.LinkedHashMap<>(Map.of("TOO_LONG", 1L, "EMPTY_SEQUENCE", 2L));
    assertEquals(List.of("EMPTY_SEQUENCE", "TOO_LONG"), List.copyOf(b.summary().rejectsByReason().keySet()));
  }
}
