package io.seqpack;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** seqpack's version, filled in by the build into {@code io/seqpack/version.properties}. */
public final class Version {
  private Version() {}

  public static final String VERSION = load();

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
