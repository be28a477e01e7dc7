package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.SeqpackException;
import io.seqpack.Version;
import io.seqpack.job.JobFailedException;
import io.seqpack.job.ScoreDriftException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code seqpack <command> [flags]}: {@code score}, {@code demo}, {@code inspect-model}, {@code report}. Errors are one line on
 * stderr and a non-zero exit status; {@code --verbose} adds the stack trace.
 */
public final class Main {
  /** Exit status for bad flags, models, inputs or outputs (the user can fix the command). */
  public static final int EXIT_USAGE = 2;
  /** Exit status for a job that failed while running. */
  public static final int EXIT_FAILED = 1;
  /** A run refused for score drift ({@code --max-drift}): nothing was published. */
  public static final int EXIT_DRIFT = 3;

  /** The subcommands, in the order {@code seqpack --help} lists them; each declares its flags (see {@link Cli}). */
  private static final Map<String, Supplier<Cli.Command>> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("demo", DemoCommand::new);
    COMMANDS.put("score", ScoreCommand::new);
    COMMANDS.put("inspect-model", InspectModelCommand::new);
    COMMANDS.put("report", ReportCommand::new);
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
    int first = 0;
    boolean verbose = false;
    while (first < argv.length && argv[first].equals("--verbose")) { // seqpack --verbose <command> ...
      verbose = true;
      first++;
    }
    if (first == argv.length || Set.of("--help", "-h", "help").contains(argv[first])) {
      out.print(usage());
      return first == argv.length ? EXIT_USAGE : 0;
    }
    if (argv[first].equals("--version")) {
      out.println("seqpack " + Version.VERSION);
      return 0;
    }
    String[] rest = Arrays.copyOfRange(argv, first + 1, argv.length);
    try {
      Supplier<Cli.Command> factory = COMMANDS.get(argv[first]);
      if (factory == null) {
        throw new ConfigException("Unknown command '" + argv[first] + "'; expected "
            + String.join(", ", COMMANDS.keySet()));
      }
      Cli.Command command = factory.get();
      Cli.Parsed parsed = Cli.parse(command, rest); // --verbose and --help only where they are flags, not values
      verbose |= parsed.verbose();
      if (parsed.help()) {
        out.print(Cli.help(factory.get()));
        return 0;
      }
      if (parsed.error() != null) {
        throw parsed.error();
      }
      command.execute(out);
      return 0;
    } catch (ScoreDriftException e) { // the whole line, "seqpack: score drift: ..."
      err.println(oneLine(e.getMessage()));
      if (verbose) {
        e.printStackTrace(err);
      }
      return EXIT_DRIFT;
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
    return Cli.usage(COMMANDS);
  }
}
