package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.Version;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.OverwrittenOptionException;
import picocli.CommandLine.UnmatchedArgumentException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/**
 * The command line of every subcommand, declared once: each command's flags are its picocli {@code @Option}
 * fields (name, value label, default, help text), and this class parses argv into them, reads {@code --config
 * FILE} into the same fields (keys are the flag names without dashes; flags on the command line win), and
 * prints the help from them. Every parse error is a {@link ConfigException} with one line that names the flag.
 */
final class Cli {
  private Cli() {}

  /** A subcommand: picocli-annotated flags plus what runs once they are set. */
  interface Command {
    void execute(PrintStream out);
  }

  /** {@code --help} and {@code --verbose}: on every command. */
  static final class Common {
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;
  }

  /** {@code --master} and {@code --conf}: commands that start Spark. */
  static final class SparkFlags {
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--conf", paramLabel = "key=value", converter = KeyValue.class,
        description = "Spark setting, repeatable")
    List<String> conf = new ArrayList<>();
  }

  /** {@code --config FILE}: read by {@link #parse}. */
  static final class ConfigFlag {
    @Option(names = "--config", paramLabel = "FILE",
        description = "properties file with the same keys as the flags (flags win), plus Spark settings as "
            + "conf.KEY=VALUE; see conf/seqpack.properties")
    String config;
  }

  /** {@code --allow-non-finite-weights}: commands that load a model. */
  static final class WeightsFlag {
    @Option(names = "--allow-non-finite-weights", description = "load models whose weights contain NaN or infinity")
    boolean allowNonFiniteWeights;
  }

  /** Flags that are not keys of a {@code --config} file. */
  private static final Set<String> NOT_CONFIG_KEYS = Set.of("--conf", "--config", "--verbose");

  /** The result of {@link #parse}: what Main needs even when the flags are wrong. */
  record Parsed(boolean help, boolean verbose, ConfigException error) {}

  /**
   * Sets {@code command}'s flags from {@code argv} and, with {@code --config FILE}, from the file for the flags
   * the command line does not give. Never throws for bad flags: the first problem is in {@link Parsed#error()}.
   */
  static Parsed parse(Object command, String[] argv) {
    CommandLine cl = parser(command);
    ConfigException error;
    try {
      ParseResult result = cl.parseArgs(argv);
      if (cl.getUnmatchedArguments().isEmpty() && !cl.isUsageHelpRequested()) {
        result = applyConfigFile(cl, argv, result);
      }
      error = firstError(cl, result);
    } catch (ConfigException e) { // the config file
      error = e;
    } catch (ParameterException e) {
      error = error(cl, e);
    }
    OptionSpec verbose = cl.getCommandSpec().findOption("--verbose");
    return new Parsed(cl.isUsageHelpRequested(), verbose != null && Boolean.TRUE.equals(verbose.getValue()), error);
  }

  /** Parses {@code argv} into {@code command} and runs it, or prints its help; what Main does, without Main's
   * error handling (bad flags throw their {@link ConfigException}). */
  static void run(Command command, String[] argv, PrintStream out) {
    Parsed parsed = parse(command, argv);
    if (parsed.help()) {
      out.print(help(command));
    } else if (parsed.error() != null) {
      throw parsed.error();
    } else {
      command.execute(out);
    }
  }

  /** A CommandLine over {@code command} that parses the way seqpack always has. */
  private static CommandLine parser(Object command) {
    CommandLine cl = new CommandLine(command);
    cl.setExpandAtFiles(false) // an argument starting with @ is a value, not a file of arguments
        .setInterpolateVariables(false) // ${...} in a value or a config file stays as written
        .setAllowOptionsAsOptionParameters(true) // --output --verbose: the output folder is named --verbose
        .setUnmatchedOptionsAllowedAsOptionParameters(true)
        .setOverwrittenOptionsAllowed(false) // a repeated single-valued flag is an error; list flags accumulate
        .setUnmatchedArgumentsAllowed(true) // reported by firstError, with seqpack's wording
        .registerConverter(Boolean.class, new TrueOrFalse())
        .registerConverter(boolean.class, new TrueOrFalse());
    cl.getCommandSpec().parser().collectErrors(true); // parse to the end: --verbose after a bad flag still counts
    return cl;
  }

  /** With {@code --config FILE}: parses argv again, now over the file's values; the file's Spark settings go
   * before the command line's {@code --conf}. */
  private static ParseResult applyConfigFile(CommandLine cl, String[] argv, ParseResult withoutFile) {
    CommandSpec spec = cl.getCommandSpec();
    OptionSpec configFlag = spec.findOption("--config");
    String file = configFlag == null ? null : configFlag.getValue();
    if (file == null) {
      return withoutFile;
    }
    ConfigFile config = ConfigFile.read(file, spec);
    cl.setDefaultValueProvider(config);
    ParseResult result = cl.parseArgs(argv);
    OptionSpec conf = spec.findOption("--conf");
    if (conf != null && !config.sparkConf.isEmpty()) {
      List<String> all = new ArrayList<>(config.sparkConf);
      all.addAll(conf.<List<String>>getValue());
      conf.setValue(all);
    }
    return result;
  }

  private static ConfigException firstError(CommandLine cl, ParseResult result) {
    if (!cl.getUnmatchedArguments().isEmpty()) {
      return unmatched(cl, cl.getUnmatchedArguments().get(0));
    }
    return result.errors().isEmpty() ? null : error(cl, (ParameterException) result.errors().get(0));
  }

  private static ConfigException unmatched(CommandLine cl, String arg) {
    String command = cl.getCommandName();
    if (!arg.startsWith("--") || arg.equals("--")) {
      return new ConfigException("Unexpected argument '" + arg + "' (flags start with --)");
    }
    String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
    List<String> near = new UnmatchedArgumentException(cl, List.of(name)).getSuggestions();
    String suggestion = near.isEmpty() ? "" : "; did you mean " + near.get(0) + "?";
    return new ConfigException("Unknown flag " + name + " for seqpack " + command + suggestion + " (see seqpack "
        + command + " --help)");
  }

  private static ConfigException error(CommandLine cl, ParameterException e) {
    String see = " (see seqpack " + cl.getCommandName() + " --help)";
    if (e.getCause() instanceof ConfigException c) {
      return c;
    }
    if (e.getCause() instanceof BadValue bad && e.getArgSpec() instanceof OptionSpec option) {
      return new ConfigException("Invalid " + option.longestName() + " " + bad.getMessage(), e);
    }
    if (e instanceof OverwrittenOptionException o && o.getOverwritten() instanceof OptionSpec option) {
      return new ConfigException(option.longestName() + " is given more than once; it takes one value (the list "
          + "flags --col, --keep-cols, --partition-by and --conf may repeat)" + see, e);
    }
    if (e instanceof MissingParameterException m && !m.getMissing().isEmpty()
        && m.getMissing().get(0) instanceof OptionSpec option) {
      boolean noValue = e.getMessage().startsWith("Missing required parameter");
      return new ConfigException((noValue ? "Missing value for " : "Missing required flag ") + option.longestName()
          + see, e);
    }
    return new ConfigException(e.getMessage() + see, e);
  }

  /** {@code "Missing required flag --x"} for a flag given an empty value (picocli checks absent ones). */
  static String required(String command, String flag, String value) {
    if (value == null || value.isBlank()) {
      throw new ConfigException("Missing required flag " + flag + " (see seqpack " + command + " --help)");
    }
    return value;
  }

  /** The flags a {@code --config} file may set, in declaration order. */
  static List<OptionSpec> configKeys(CommandSpec spec) {
    return spec.options().stream()
        .filter(o -> !o.usageHelp() && !o.versionHelp() && !NOT_CONFIG_KEYS.contains(o.longestName()))
        .toList();
  }

  static String key(OptionSpec option) {
    return option.longestName().substring(2);
  }

  /** The picocli model of a command, as the help and the docs test see it. */
  static CommandSpec spec(Object command) {
    return new CommandLine(command).getCommandSpec();
  }

  /** A {@code --config} file: values for the flags it names, and its {@code conf.<key>} Spark settings. */
  private static final class ConfigFile implements IDefaultValueProvider {
    final Map<String, String> values = new LinkedHashMap<>();
    final List<String> sparkConf = new ArrayList<>();

    static ConfigFile read(String file, CommandSpec spec) {
      Properties props = new Properties();
      try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
        props.load(in);
      } catch (IOException | IllegalArgumentException e) { // also InvalidPathException, a malformed unicode escape
        throw new ConfigException("Cannot read --config " + file + ": " + e.getMessage(), e);
      }
      Map<String, OptionSpec> keys = new LinkedHashMap<>();
      for (OptionSpec option : configKeys(spec)) {
        keys.put(key(option), option);
      }
      ConfigFile config = new ConfigFile();
      for (String key : new TreeSet<>(props.stringPropertyNames())) {
        String value = props.getProperty(key).trim();
        if (key.startsWith("conf.")) {
          config.sparkConf.add(key.substring(5) + "=" + value);
        } else if (keys.containsKey(key)) {
          config.values.put(keys.get(key).longestName(), value);
        } else {
          throw new ConfigException("Unknown key '" + key + "' in --config " + file + "; allowed keys: "
              + String.join(", ", keys.keySet()) + ", conf.<spark key>");
        }
      }
      return config;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
      return arg instanceof OptionSpec option ? values.get(option.longestName()) : null;
    }
  }

  // ---- help ----

  private static final int WIDTH = 110;

  /** {@code seqpack <command> --help}, generated from the command's declaration. */
  static String help(Object command) {
    CommandLine cl = new CommandLine(command);
    CommandSpec spec = cl.getCommandSpec();
    spec.parser().separator(" "); // shown as "--input PATH"; --input=PATH parses as well
    spec.usageMessage()
        .width(WIDTH)
        .longOptionsMaxWidth(30)
        .sortOptions(false)
        .customSynopsis(synopsis(spec))
        .descriptionHeading("%n")
        .parameterListHeading("%n")
        .optionListHeading("%n");
    List<String> sections = new ArrayList<>(cl.getHelpSectionKeys());
    sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER_HEADING);
    sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER); // the line of seqpack --help
    if (spec.positionalParameters().stream().allMatch(PositionalParamSpec::hidden)) {
      // DIR is explained by the description: an empty list's heading would be a second blank line
      sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_PARAMETER_LIST_HEADING);
    }
    cl.setHelpSectionKeys(sections);
    return cl.getUsageMessage(Help.Ansi.OFF);
  }

  /**
   * An option's {@code descriptionKey} (no resource bundle reads it) for a flag that is required unless its
   * {@code -table} twin is given ({@code --input} / {@code --input-table}); the synopsis shows both.
   */
  static final String REQUIRED_UNLESS_TABLE = "required-unless-table";

  /**
   * {@code seqpack score --input PATH|--input-table TABLE --model DIR ... [flags]}: the required flags, the
   * arguments.
   */
  private static String synopsis(CommandSpec spec) {
    StringBuilder s = new StringBuilder("seqpack ").append(spec.name());
    boolean optional = false;
    for (OptionSpec option : spec.options()) {
      OptionSpec twin = REQUIRED_UNLESS_TABLE.equals(option.descriptionKey())
          ? spec.findOption(option.longestName() + "-table") : null;
      if (option.required()) {
        s.append(' ').append(option.longestName()).append(' ').append(option.paramLabel());
      } else if (twin != null) {
        s.append(' ').append(option.longestName()).append(' ').append(option.paramLabel()).append('|')
            .append(twin.longestName()).append(' ').append(twin.paramLabel());
        optional = true;
      } else {
        optional = true;
      }
    }
    for (PositionalParamSpec p : spec.positionalParameters()) {
      s.append(' ').append(p.paramLabel());
    }
    return s.append(optional ? " [flags]" : "").toString();
  }

  /** {@code seqpack --help}: the commands, each with the first line of its header. */
  static String usage(Map<String, Supplier<Command>> commands) {
    CommandLine cl = new CommandLine(CommandSpec.create().name("seqpack"));
    for (Map.Entry<String, Supplier<Command>> c : commands.entrySet()) {
      cl.addSubcommand(c.getKey(), new CommandLine(c.getValue().get()));
    }
    cl.getCommandSpec().usageMessage()
        .width(WIDTH)
        .header("seqpack " + Version.VERSION
            + ": length-bucketed, padding-free RNN scoring on Apache Spark (PyTorch-exact)")
        .synopsisHeading("%nUsage: ")
        .customSynopsis("seqpack <command> [flags]")
        .commandListHeading("%nCommands:%n")
        .footerHeading("%n")
        .footer("Run 'seqpack <command> --help' for the flags of a command. --verbose adds stack traces to errors.");
    return cl.getUsageMessage(Help.Ansi.OFF);
  }

  // ---- value converters: errors name the flag ("Invalid --batch-tokens 'zero': expected an integer") ----

  /** A bad value; {@link #error} puts {@code "Invalid <flag> "} in front of the message. */
  static final class BadValue extends TypeConversionException {
    private static final long serialVersionUID = 1L;

    BadValue(String message) {
      super(message);
    }
  }

  static int integer(String value, int min) {
    int parsed;
    try {
      parsed = Integer.parseInt(value.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new BadValue("'" + value + "': expected an integer");
    }
    if (parsed < min) {
      throw new BadValue(parsed + ": must be at least " + min);
    }
    return parsed;
  }

  /** An integer ≥ 0; underscores allowed (16_384). */
  static final class NonNegativeInt implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return integer(value, 0);
    }
  }

  /** An integer ≥ 1; underscores allowed (16_384). */
  static final class PositiveInt implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      return integer(value, 1);
    }
  }

  /** A number; the range is the job's to check. */
  static final class Fraction implements ITypeConverter<Double> {
    @Override
    public Double convert(String value) {
      try {
        return Double.parseDouble(value);
      } catch (NumberFormatException e) {
        throw new BadValue("'" + value + "': expected a number in [0, 1]");
      }
    }
  }

  /** {@code key=value}. */
  static final class KeyValue implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      if (!value.contains("=")) {
        throw new BadValue(value + ": expected key=value");
      }
      return value;
    }
  }

  /** A switch's value in a config file (or {@code --flag=true}). */
  static final class TrueOrFalse implements ITypeConverter<Boolean> {
    @Override
    public Boolean convert(String value) {
      if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(value);
      }
      throw new BadValue("'" + value + "': expected true or false");
    }
  }

  /** {@code --conf} keys whose values are credentials: the summary and report show them as {@code ***}. */
  private static final java.util.regex.Pattern SECRET_KEY =
      java.util.regex.Pattern.compile("(?i).*(secret|password|credential|token|access\\.key|session\\.key).*");

  /**
   * The arguments as the summary records them: a credential given with {@code --conf KEY=VALUE} (an S3 secret,
   * a password) becomes {@code KEY=***}, since summaries and reports are shared more widely than the command.
   */
  static List<String> redacted(List<String> args) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      boolean joined = arg.startsWith("--conf=");
      boolean value = joined || i > 0 && args.get(i - 1).equals("--conf");
      String setting = joined ? arg.substring("--conf=".length()) : arg;
      int eq = setting.indexOf('=');
      if (value && eq > 0 && SECRET_KEY.matcher(setting.substring(0, eq)).matches()) {
        setting = setting.substring(0, eq + 1) + "***";
        arg = joined ? "--conf=" + setting : setting;
      }
      out.add(arg);
    }
    return out;
  }
}
