package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.report.RunReport;
import io.seqpack.summary.RunSummary;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code seqpack report OUTPUT_DIR}: (re)draw a run's HTML report from its summary. */
@Command(name = "report", header = "write the HTML run report of a scored output folder (from its summary)",
    description = "Reads OUTPUT_DIR/" + RunSummary.FILE + " (written by a finished 'seqpack score' run into its "
        + "--output folder) and writes OUTPUT_DIR/_seqpack_report.html next to it, replacing an older report. The "
        + "report is one self-contained HTML file (no scripts, no network): the key figures, the sequence-length "
        + "histogram with the bucket boundaries, rows, tokens and batch fill per bucket, throughput over time, score "
        + "histograms per output feature and rejects per reason. OUTPUT_DIR must be a local folder (or file:// URI); "
        + "copy the summary off HDFS/S3 first. Prints the report's path. Exit status 2 with a one-line reason if the "
        + "summary is missing or malformed.")
final class ReportCommand implements Cli.Command {
  /** OUTPUT_DIR: in the synopsis, explained by the description; counted by execute(). */
  @Parameters(paramLabel = "OUTPUT_DIR", arity = "0..*", hidden = true)
  List<String> folders = new ArrayList<>();

  @Mixin Cli.Common common;

  static final String HELP = Cli.help(new ReportCommand());

  /** {@code seqpack report ARGS} without Main's error handling. */
  static void run(String[] argv, PrintStream out) {
    Cli.run(new ReportCommand(), argv, out);
  }

  @Override
  public void execute(PrintStream out) {
    if (folders.size() != 1) {
      throw new ConfigException("Expected exactly one output folder (seqpack report OUTPUT_DIR)");
    }
    out.println(RunReport.write(localFolder(folders.get(0))));
  }

  static Path localFolder(String arg) {
    if (arg.startsWith("file:")) {
      try {
        return Path.of(URI.create(arg));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("Cannot read output folder " + arg + ": " + e.getMessage(), e);
      }
    }
    int scheme = arg.indexOf("://");
    if (scheme > 0 && arg.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
      throw new ConfigException("Cannot read output folder " + arg
          + ": seqpack report reads local folders only; copy " + RunSummary.FILE + " to a local folder first");
    }
    try {
      return Path.of(arg);
    } catch (InvalidPathException e) {
      throw new ConfigException("Cannot read output folder " + arg + ": " + e.getMessage(), e);
    }
  }
}
