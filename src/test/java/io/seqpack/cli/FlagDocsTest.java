package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The flags of {@code seqpack score} are declared once, in {@link ScoreCommand}; README's flag table and usage block
 * and conf/seqpack.properties are written by hand and must agree with that declaration: the same flags, in the
 * same order, with the same defaults. Fix the document this test names (it prints what it expected).
 */
class FlagDocsTest {
  private static final Path README = Path.of("README.md");
  private static final Path PROPERTIES = Path.of("conf/seqpack.properties");
  private static final Pattern TABLE_ROW = Pattern.compile("^\\| `(--[a-z-]+)` \\|([^|]*)\\|");
  private static final Pattern PROPERTY = Pattern.compile("^(#\\s*)?([a-z][a-z0-9.-]*)\\s*=\\s*(.*)$");

  private final CommandSpec spec = Cli.spec(new ScoreCommand());

  @Test
  void readmeTableListsEveryFlagInDeclarationOrderWithItsDefault() throws IOException {
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : scoreSection().lines().toList()) {
      Matcher m = TABLE_ROW.matcher(line);
      if (m.find()) {
        assertNull(rows.put(m.group(1), m.group(2).strip()), "README lists " + m.group(1) + " twice");
      }
    }
    List<String> declared = spec.options().stream().map(OptionSpec::longestName).toList();
    assertEquals(declared, List.copyOf(rows.keySet()),
        "README.md, section `seqpack score`: the flag table must list the flags ScoreCommand declares, in its order");
    for (OptionSpec option : spec.options()) {
      String cell = rows.get(option.longestName()).replace("`", "");
      String expected = expectedReadmeDefault(option);
      String why = "README.md, `seqpack score` table, row " + option.longestName() + ": default cell '" + cell
          + "', expected " + expected;
      if (option.defaultValue() != null) {
        assertTrue(cell.equals(option.defaultValue()) || cell.startsWith(option.defaultValue() + " ("), why);
      } else if (expected != null) {
        assertEquals(expected, cell, why);
      } else { // no declared default: the cell says in words what happens, but must not claim one of these
        assertFalse(cell.equals("required") || cell.equals("off"), why);
      }
    }
  }

  /** What the table's default cell says: "required", "off" for a switch, the declared default (+ " (...)"). */
  private static String expectedReadmeDefault(OptionSpec option) {
    if (option.usageHelp()) {
      return "";
    }
    if (option.required()) {
      return "required";
    }
    if (isSwitch(option)) {
      return "off";
    }
    return option.defaultValue() == null ? null : "'" + option.defaultValue() + "' or '" + option.defaultValue()
        + " (...)'";
  }

  @Test
  void readmeUsageBlockNamesEveryFlag() throws IOException {
    String section = scoreSection();
    int open = section.indexOf("```");
    String block = section.substring(open + 3, section.indexOf("```", open + 3));
    TreeSet<String> named = new TreeSet<>();
    Matcher m = Pattern.compile("--[a-z][a-z-]*").matcher(block);
    while (m.find()) {
      named.add(m.group());
    }
    TreeSet<String> declared = new TreeSet<>(spec.options().stream().map(OptionSpec::longestName).toList());
    assertEquals(declared, named, "README.md, section `seqpack score`: the usage block must name every flag");
  }

  @Test
  void propertiesFileListsEveryConfigKeyInDeclarationOrderWithItsDefault() throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, Boolean> commented = new LinkedHashMap<>();
    for (String line : Files.readAllLines(PROPERTIES, StandardCharsets.UTF_8)) {
      Matcher m = PROPERTY.matcher(line.strip());
      if (!m.matches() || m.group(2).startsWith("conf.")) {
        continue;
      }
      boolean isComment = m.group(1) != null;
      // a commented line may end in an explanation: "# max-length = 0      (0 = no limit; ...)"
      String value = isComment ? m.group(3).replaceFirst("\\s{2,}\\(.*\\)$", "").strip() : m.group(3).strip();
      assertNull(values.put(m.group(2), value), PROPERTIES + " lists " + m.group(2) + " twice");
      commented.put(m.group(2), isComment);
    }
    List<String> keys = Cli.configKeys(spec).stream().map(Cli::key).toList();
    assertEquals(keys, List.copyOf(values.keySet()), PROPERTIES + " must have one line `key = value` or `# key = "
        + "value` per flag of seqpack score, in ScoreCommand's order (not --conf, --config, --verbose, --help)");
    for (OptionSpec option : Cli.configKeys(spec)) {
      String key = Cli.key(option);
      String declared = option.defaultValue() != null ? option.defaultValue() : isSwitch(option) ? "false" : null;
      if (declared != null) {
        assertEquals(declared, values.get(key), PROPERTIES + ": " + key + " must show its default");
      } else {
        assertTrue(commented.get(key), PROPERTIES + ": " + key + " has no default, so its example value must be "
            + "commented out (# " + key + " = " + values.get(key) + ")");
      }
    }
  }

  @Test
  void theExampleConfigSetsOnlyDefaults() {
    String[] required = {"--input", "in", "--model", "m", "--output", "out"};
    ScoreCommand plain = new ScoreCommand();
    assertNull(Cli.parse(plain, required).error());
    ScoreCommand withFile = new ScoreCommand();
    List<String> argv = new ArrayList<>(List.of(required));
    argv.addAll(List.of("--config", PROPERTIES.toString()));
    assertNull(Cli.parse(withFile, argv.toArray(String[]::new)).error());
    assertEquals(plain.options(), withFile.options());
    assertEquals(plain.spark.conf, withFile.spark.conf);
  }

  private static boolean isSwitch(OptionSpec option) {
    return option.type() == boolean.class || option.type() == Boolean.class;
  }

  /** README from "### `seqpack score`" to the next heading. */
  private static String scoreSection() throws IOException {
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    int start = readme.indexOf("### `seqpack score`");
    assertTrue(start >= 0, "README.md has no section ### `seqpack score`");
    Matcher next = Pattern.compile("(?m)^##").matcher(readme);
    int end = next.find(start + 3) ? next.start() : readme.length();
    return readme.substring(start, end);
  }
}
