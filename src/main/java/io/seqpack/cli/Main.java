package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.SeqpackException;
import io.seqpack.Version;
import io.seqpack.spark.JobFailedException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * {@code seqpack <command> [flags]}: {@code score}, {@code demo}, {@code inspect-model}, {@code report}. Errors are one line on
 * stderr and a non-zero exit status; {@code --verbose} adds the stack trace.
 */
public final class Main {
  /** Exit status for bad flags, models, inputs or outputs (the user can fix the command). */
  public static final int EXIT_USAGE = 2;
  /** Exit status for a job that failed while running. */
  public static final int EXIT_FAILED = 1;

  /** A subcommand: its --help text and what it runs. */
  private record Command(String help, BiConsumer<String[], PrintStream> run) {}

  private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("score", new Command(ScoreCommand.HELP, ScoreCommand::run));
    COMMANDS.put("demo", new Command(DemoCommand.HELP, DemoCommand::run));
    COMMANDS.put("inspect-model", new Command(InspectModelCommand.HELP, InspectModelCommand::run));
    COMMANDS.put("report", new Command(ReportCommand.HELP, ReportCommand::run));
  }

  private Main() {}

  public static void main(String[] argv) {
    int status = run(argv, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /** Runs a command and returns its exit status instead of exiting (what the tests call). */
  public static int run(String[] argv, PrintStream out, PrintStream err) {
    boolean verbose = Arrays.asList(argv).contains("--verbose");
    String[] args = Arrays.stream(argv).filter(a -> !a.equals("--verbose")).toArray(String[]::new);
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      out.print(usage());
      return args.length == 0 ? EXIT_USAGE : 0;
    }
    if (args[0].equals("--version")) {
      out.println("seqpack " + Version.VERSION);
      return 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    boolean help = Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h");
    try {
      Command command = COMMANDS.get(args[0]);
      if (command == null) {
        throw new ConfigException("Unknown command '" + args[0] + "'; expected " + String.join(", ", COMMANDS.keySet()));
      }
      if (help) {
        out.print(command.help());
        return 0;
      }
      command.run().accept(rest, out);
      return 0;
    } catch (JobFailedException e) { // already one line that says what failed and what to do
      err.println("seqpack: job failed: " + oneLine(e.getMessage()));
      if (verbose) {
        e.printStackTrace(err);
      }
      return EXIT_FAILED;
    } catch (SeqpackException e) {
      err.println("seqpack: error: " + oneLine(e.getMessage()));
      if (verbose) {
        e.printStackTrace(err);
      }
      return EXIT_USAGE;
    } catch (Exception e) { // Spark rethrows checked SparkExceptions from Scala
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String message = root instanceof SeqpackException ? root.getMessage() : e.getClass().getSimpleName() + ": "
          + e.getMessage() + (root != e ? " (caused by " + root + ")" : "");
      err.println("seqpack: job failed: " + oneLine(message) + (verbose ? "" : " (run with --verbose for details)"));
      if (verbose) {
        e.printStackTrace(err);
      }
      return EXIT_FAILED;
    }
  }

  static String oneLine(String message) {
    if (message == null) {
      return "(no message)";
    }
    return message.lines().findFirst().orElse("").strip();
  }

  static String usage() {
    return """
        seqpack %s: length-bucketed, padding-free RNN scoring on Apache Spark (PyTorch-exact)

        Usage: seqpack <command> [flags]

        Commands:
          demo            score the PyTorch tutorial's four sequences with a tutorial-shaped model, end to end
          score           score Parquet sequences with a model directory, write predictions and rejects
          inspect-model   print and validate a model directory
          report          write the HTML run report of a scored output folder (from its summary)

        Run 'seqpack <command> --help' for the flags of a command. --verbose adds stack traces to errors.
        """.formatted(Version.VERSION);
  }
}
