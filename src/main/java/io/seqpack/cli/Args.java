package io.seqpack.cli;

import io.seqpack.ConfigException;
import java.io.IOException;
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

/**
 * Command-line flags of one subcommand, resolved as flags &gt; config file ({@code --config FILE}, keys named
 * like the flags without dashes) &gt; defaults. Unknown flags and malformed values are {@link
 * ConfigException}s that name the flag.
 */
final class Args {
  private final String command;
  private final Map<String, String> values = new LinkedHashMap<>();
  private final List<String> conf = new ArrayList<>();
  private final List<String> positional = new ArrayList<>();

  private Args(String command) {
    this.command = command;
  }

  /**
   * @param valueFlags flags that take a value
   * @param switches flags without a value
   */
  static Args parse(String command, String[] argv, Set<String> valueFlags, Set<String> switches) {
    Args args = new Args(command);
    for (int i = 0; i < argv.length; i++) {
      String arg = argv[i];
      if (!arg.startsWith("--")) {
        args.positional.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String inlineValue = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        inlineValue = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (switches.contains(name)) {
        if (inlineValue != null) {
          throw new ConfigException("Invalid flag --" + name + ": it takes no value");
        }
        args.values.put(name, "true");
      } else if (valueFlags.contains(name) || name.equals("conf") || name.equals("config")) {
        String value = inlineValue;
        if (value == null) {
          if (i + 1 >= argv.length) {
            throw new ConfigException("Missing value for --" + name + " (see seqpack " + command + " --help)");
          }
          value = argv[++i];
        }
        if (name.equals("conf")) {
          if (!value.contains("=")) {
            throw new ConfigException("Invalid --conf " + value + ": expected key=value");
          }
          args.conf.add(value);
        } else {
          args.values.put(name, value);
        }
      } else {
        throw new ConfigException("Unknown flag --" + name + " for seqpack " + command + " (see seqpack "
            + command + " --help)");
      }
    }
    String configFile = args.values.remove("config");
    if (configFile != null) {
      args.mergeConfigFile(Path.of(configFile), valueFlags, switches);
    }
    return args;
  }

  /** Keys in the file fill in flags that were not given on the command line. */
  private void mergeConfigFile(Path file, Set<String> valueFlags, Set<String> switches) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (IOException e) {
      throw new ConfigException("Cannot read --config " + file + ": " + e.getMessage(), e);
    }
    for (String key : props.stringPropertyNames()) {
      String value = props.getProperty(key).trim();
      if (key.startsWith("conf.")) {
        conf.add(0, key.substring(5) + "=" + value); // command-line --conf come later and win
      } else if (valueFlags.contains(key) || switches.contains(key)) {
        values.putIfAbsent(key, value);
      } else {
        throw new ConfigException("Unknown key '" + key + "' in --config " + file + "; allowed keys: "
            + String.join(", ", valueFlags) + ", " + String.join(", ", switches) + ", conf.<spark key>");
      }
    }
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String string(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  String required(String name) {
    String v = values.get(name);
    if (v == null || v.isBlank()) {
      throw new ConfigException("Missing required flag --" + name + " (see seqpack " + command + " --help)");
    }
    return v;
  }

  boolean flag(String name) {
    String v = values.get(name);
    if (v == null) {
      return false;
    }
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new ConfigException("Invalid value for " + name + ": '" + v + "', expected true or false");
  }

  int integer(String name, int fallback, int min) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    int parsed;
    try {
      parsed = Integer.parseInt(v.trim().replace("_", ""));
    } catch (NumberFormatException e) {
      throw new ConfigException("Invalid --" + name + " '" + v + "': expected an integer");
    }
    if (parsed < min) {
      throw new ConfigException("Invalid --" + name + " " + parsed + ": must be at least " + min);
    }
    return parsed;
  }

  List<String> conf() {
    return conf;
  }

  List<String> positional() {
    return positional;
  }
}
