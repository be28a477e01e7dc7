package io.seqpack.job;

import io.seqpack.ConfigException;
import io.seqpack.model.LoadedModel;
import io.seqpack.InputSchemaException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.spark.SequenceScorer;
import io.seqpack.summary.RunSummary;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * A score run whose setup is checked on the driver without a cluster: the model folder read and validated, and
 * every path on the local file system checked (a batch input listed with its footers, the outputs absent unless
 * {@code --mode overwrite}, the checkpoint belonging to these folders). The CLI checks before it starts Spark, so
 * such a mistake costs no Spark start-up; paths on other file systems ({@code hdfs://}, {@code s3a://}) are
 * checked by the job once Spark is up. The job repeats the cheap checks (a folder may appear in between) but
 * reuses the model and the listing.
 */
public final class CheckedRun implements AutoCloseable {
  private final ScoreJob.Options options;
  private final String checkpoint;
  private final LoadedModel model;
  private final ModelBytes modelBytes;
  private final InputFiles input;
  private final CheckpointLock lock;
  private final DriftBaseline baseline;
  private final TableScoreJob.Tables tables;

  private CheckedRun(ScoreJob.Options options, String checkpoint, LoadedModel model, ModelBytes modelBytes,
      InputFiles input, CheckpointLock lock, DriftBaseline baseline, TableScoreJob.Tables tables) {
    this.tables = tables;
    this.lock = lock;
    this.baseline = baseline;
    this.options = options;
    this.checkpoint = checkpoint;
    this.model = model;
    this.modelBytes = modelBytes;
    this.input = input;
  }

  /**
   * Checks what can be checked with {@code hadoop} alone (see the class comment).
   *
   * @param checkpoint {@code --checkpoint} of an incremental run, or null for a batch run
   * @param hadoopConf decides which paths are local (a path without a scheme is on its {@code fs.defaultFS})
   * @param defaultFs its {@code fs.defaultFS} when known without making it, else null
   * @throws io.seqpack.SeqpackException the first mistake, in the message the job would give
   */
  public static CheckedRun check(ScoreJob.Options options, String checkpoint, Supplier<Configuration> hadoopConf,
      String defaultFs) {
    checkDistinctOutputs(options); // here, not in ScoreJob: its logger would load the logging classes already
    ModelBytes bytes = readSmallModel(options);
    LoadedModel model = bytes != null
        ? ModelLoader.load(bytes, options.modelDir().toString(), options.allowNonFiniteWeights())
        : ModelLoader.load(options.modelDir(), options.allowNonFiniteWeights());
    if (checkpoint == null) { // the usual mistakes first, without Hadoop: its classes and logging load slowly
      java.nio.file.Path in = localPath(options.input(), defaultFs);
      if (in != null && !Files.exists(in)) {
        throw missingInput(options.input(), "file:" + in.toAbsolutePath().normalize());
      }
      for (String[] out : new String[][] {{"--output", options.output()}, {"--rejects", options.rejectsPath()}}) {
        java.nio.file.Path local = localPath(out[1], defaultFs);
        if (local != null && !options.overwrite() && Files.exists(local)) {
          throw existingOutput(out[0], out[1]);
        }
      }
    }
    Configuration hadoop = hadoopConf.get();
    if (options.maxDrift() != null && options.driftBaseline() == null && checkpoint == null) {
      throw new ConfigException("Invalid --max-drift without a baseline: add --drift-baseline PATH (a previous "
          + "run's output folder), or use --incremental, whose baseline is its last committed run");
    }
    DriftBaseline baseline = options.driftBaseline() == null ? null
        : DriftBaseline.read(hadoop, options.driftBaseline(), heads(model));
    InputFiles input = null;
    if (checkpoint == null) {
      if (isLocal(hadoop, options.input())) {
        input = InputFiles.list(hadoop, options.input(), options.skipCorruptFiles(), false);
      }
      for (String[] out : new String[][] {{"--output", options.output()}, {"--rejects", options.rejectsPath()}}) {
        if (isLocal(hadoop, out[1])) {
          checkWritable(hadoop, out[1], out[0], options.overwrite());
        }
      }
    } else if (isLocal(hadoop, checkpoint) && isLocal(hadoop, options.output())
        && isLocal(hadoop, options.rejectsPath())) {
      // held from here to the end of the run: the checkpoint is read only by its holder
      CheckpointLock lock = IncrementalScoreJob.lock(hadoop, options, new Path(checkpoint));
      try {
        IncrementalScoreJob.checkCheckpoint(hadoop, options, checkpoint);
      } catch (RuntimeException e) {
        lock.close();
        throw e;
      }
      return new CheckedRun(options, checkpoint, model, bytes, null, lock, baseline, null);
    }
    return new CheckedRun(options, checkpoint, model, bytes, input, null, baseline, null);
  }

  /**
   * A run with a table on either side ({@link TableScoreJob}): the model, a local {@code --input} folder and a
   * local checkpoint's lock are checked here; the tables need the catalogs, so Spark, and are checked by the job
   * before any partition runs.
   */
  public static CheckedRun checkTables(ScoreJob.Options options, TableScoreJob.Tables tables, String checkpoint,
      Supplier<Configuration> hadoopConf) {
    if (options.maxDrift() != null || options.driftBaseline() != null) {
      throw new ConfigException("Cannot combine --max-drift or --drift-baseline with --output-table yet");
    }
    ModelBytes bytes = readSmallModel(options);
    LoadedModel model = bytes != null
        ? ModelLoader.load(bytes, options.modelDir().toString(), options.allowNonFiniteWeights())
        : ModelLoader.load(options.modelDir(), options.allowNonFiniteWeights());
    Configuration hadoop = hadoopConf.get();
    InputFiles input = null;
    if (tables.inputTable() == null && isLocal(hadoop, options.input())) {
      input = InputFiles.list(hadoop, options.input(), options.skipCorruptFiles(), false);
    }
    CheckpointLock lock = checkpoint != null && isLocal(hadoop, checkpoint)
        ? CheckpointLock.acquire(hadoop, new Path(checkpoint), options.waitForLockSeconds()) : null;
    return new CheckedRun(options, checkpoint, model, bytes, input, lock, null, tables);
  }

  /**
   * The bytes of the model's files, or null for a model.safetensors larger than {@link
   * SequenceScorer#SHIP_BY_PATH_ABOVE_BYTES}: that one is streamed into its tensors, and executors read it from
   * {@code --model} themselves, so no process holds the file's bytes and its weights at once.
   */
  private static ModelBytes readSmallModel(ScoreJob.Options options) {
    java.nio.file.Path dir = options.modelDir();
    java.nio.file.Path file = dir.resolve(ModelLoader.MODEL_SAFETENSORS);
    if (Files.isDirectory(dir) && Files.isRegularFile(file)
        && ModelLoader.safetensorsSize(file, "Cannot read model directory " + dir + ": ")
            > SequenceScorer.SHIP_BY_PATH_ABOVE_BYTES) {
      return null;
    }
    return ModelLoader.readDirectory(dir);
  }

  /** The model's head names, in model order (the keys of a summary's drift). */
  static java.util.List<String> heads(LoadedModel model) {
    return model.graph().heads().stream().map(io.seqpack.model.ModelGraph.Head::name).toList();
  }

  /** {@code --drift-baseline} as read and checked, or null without one. */
  DriftBaseline baseline() {
    return baseline;
  }

  /** Whether this holds the checkpoint's lock (a local checkpoint, locked by {@link #check}). */
  boolean holdsLock() {
    return lock != null;
  }

  /** Releases the checkpoint's lock, if this holds it. */
  @Override
  public void close() {
    if (lock != null) {
      lock.close();
    }
  }

  /** Runs the job: {@link ScoreJob} for a batch run, {@link IncrementalScoreJob} with a checkpoint. */
  public RunSummary run(SparkSession spark) {
    if (tables != null) {
      return TableScoreJob.run(spark, this, tables);
    }
    return checkpoint == null ? ScoreJob.run(spark, this) : IncrementalScoreJob.run(spark, this);
  }

  public ScoreJob.Options options() {
    return options;
  }

  /** {@code --checkpoint}, or null for a batch run. */
  public String checkpoint() {
    return checkpoint;
  }

  LoadedModel model() {
    return model;
  }

  ModelBytes modelBytes() {
    return modelBytes;
  }

  /** The batch input listed before Spark started, or null (remote, or an incremental run: it lists under its lock). */
  InputFiles input() {
    return input;
  }

  static void checkDistinctOutputs(ScoreJob.Options options) {
    if (options.rejectsPath().equals(options.output())) {
      throw new ConfigException("Cannot write rejects to " + options.output() + ": it is also the --output folder");
    }
  }

  static void checkWritable(Configuration hadoop, String path, String flag, boolean overwrite) {
    if (overwrite) {
      return;
    }
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      if (p.getFileSystem(hadoop).exists(p)) {
        throw existingOutput(flag, path);
      }
    } catch (IOException e) {
      throw new ConfigException("Cannot check " + flag + " " + path + ": " + e.getMessage(), e);
    }
  }

  private static ConfigException existingOutput(String flag, String path) {
    return new ConfigException(
        "Cannot write " + flag + " " + path + ": it already exists (use --mode overwrite to replace it)");
  }

  /** {@code qualified}: the path as Hadoop qualifies it ({@code file:/data/in}). */
  static InputSchemaException missingInput(String input, String qualified) {
    return new InputSchemaException("Cannot read input " + input + ": Path does not exist: " + qualified);
  }

  /** A local path without glob characters as a {@link java.nio.file.Path}, else null (Hadoop decides). */
  private static java.nio.file.Path localPath(String path, String defaultFs) {
    if (path.matches(".*[*?\\[\\]{}].*")) {
      return null;
    }
    if (path.startsWith("file:")) {
      return java.nio.file.Path.of(URI.create(path.startsWith("file://") ? path : "file://" + path.substring(5)));
    }
    boolean hasScheme = path.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.*");
    return !hasScheme && defaultFs != null && defaultFs.startsWith("file:") ? java.nio.file.Path.of(path) : null;
  }

  /** Whether {@code path} is on the local file system (found without creating a file system client). */
  private static boolean isLocal(Configuration hadoop, String path) {
    try {
      String scheme = new Path(path).toUri().getScheme();
      if (scheme == null) {
        scheme = FileSystem.getDefaultUri(hadoop).getScheme();
      }
      return scheme == null || scheme.equals("file");
    } catch (IllegalArgumentException e) {
      throw new ConfigException("Invalid path " + path + ": " + e.getMessage(), e);
    }
  }
}
