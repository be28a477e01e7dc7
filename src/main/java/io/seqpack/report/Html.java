package io.seqpack.report;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/** Escaping and number formatting for the report. Every string from the summary goes through {@link #esc}. */
final class Html {
  private Html() {}

  /** Escapes text for HTML/SVG element content and double- or single-quoted attribute values. */
  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> {
          // C0 controls other than tab/newline are not allowed in HTML text; show them as U+FFFD
          sb.append(c < 0x20 && c != '\t' && c != '\n' ? '\uFFFD' : c);
        }
      }
    }
    return sb.toString();
  }

  /** Exact figure as it appears in the summary, with thousands separators: 1234567 → 1,234,567; 0.913 → 0.913. */
  static String number(Number n) {
    if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
        || n instanceof BigInteger) {
      return String.format(Locale.ROOT, "%,d", n instanceof BigInteger b ? b : (Object) n.longValue());
    }
    double d = n.doubleValue();
    if (!Double.isFinite(d)) {
      return String.valueOf(d);
    }
    DecimalFormat f = new DecimalFormat("#,##0.##########", DecimalFormatSymbols.getInstance(Locale.ROOT));
    return f.format(n instanceof BigDecimal bd ? bd : BigDecimal.valueOf(d));
  }

  /**
   * A ratio in 0..1 as a percentage: one decimal from 1% up (0.9134 → 91.3%), two significant digits below, so a
   * small share does not read as none (0.000253 → 0.025%).
   */
  static String percent(double ratio) {
    double p = ratio * 100.0;
    if (p == 0 || Math.abs(p) >= 1 || !Double.isFinite(p)) {
      return String.format(Locale.ROOT, "%.1f%%", p);
    }
    return new BigDecimal(p).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString() + "%";
  }

  /** Coordinates in SVG: at most two decimals, no exponent. */
  static String c(double v) {
    if (Math.abs(v) < 0.005) {
      return "0";
    }
    String s = String.format(Locale.ROOT, "%.2f", v);
    if (s.indexOf('.') >= 0) {
      s = s.replaceAll("0+$", "");
      if (s.endsWith(".")) {
        s = s.substring(0, s.length() - 1);
      }
    }
    return s;
  }

  /**
   * An axis tick value; {@code step} is the tick spacing and {@code scale} the largest magnitude on the axis,
   * which picks one suffix (k, M, G) for the whole axis.
   */
  static String tick(double v, double step, double scale) {
    double div = 1;
    String suffix = "";
    if (scale >= 1e9) {
      div = 1e9;
      suffix = "G";
    } else if (scale >= 1e6) {
      div = 1e6;
      suffix = "M";
    } else if (scale >= 1e4) {
      div = 1e3;
      suffix = "k";
    }
    double shown = v / div;
    double s = step / div;
    int decimals = Math.max(0, (int) Math.ceil(-Math.log10(s) - 1e-9));
    if (decimals > 0 && Math.abs(s * Math.pow(10, decimals) - Math.rint(s * Math.pow(10, decimals))) > 1e-6) {
      decimals++; // steps like 0.25
    }
    decimals = Math.min(decimals, 6);
    if (Math.abs(shown) < Math.pow(10, -decimals) / 2) {
      return "0"; // not "0k" or "-0"
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", shown) + suffix;
  }

  /** A figure rounded to a whole number, with thousands separators: 2027.302 → 2,027. */
  static String whole(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%,d", Math.round(v)) : String.valueOf(v);
  }

  /** A duration for reading: 0.4 s, 4.3 s, 93 s → 1 min 33 s, 2 h 05 min. */
  static String seconds(double s) {
    if (!(s >= 0) || Double.isInfinite(s)) {
      return String.valueOf(s);
    }
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1f s", s);
    }
    long whole = Math.round(s);
    if (whole < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", whole / 60, whole % 60);
    }
    return String.format(Locale.ROOT, "%d h %02d min", whole / 3600, whole % 3600 / 60);
  }

  /** An ISO-8601 instant as {@code 2026-12-07 01:02:03 UTC}; other text as it is. */
  static String dateTime(String iso) {
    try {
      return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
          .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.parse(iso));
    } catch (java.time.format.DateTimeParseException e) {
      return iso;
    }
  }

  /** A length class {@code [lo, hi]}: {@code 7} or {@code 8–11}. */
  static String lengths(long lo, long hi) {
    return lo == hi ? number(lo) : number(lo) + "\u2013" + number(hi);
  }

  /** Arguments as a shell would need them typed: those with spaces or shell characters in single quotes. */
  static String commandLine(java.util.List<String> args) {
    StringBuilder sb = new StringBuilder();
    for (String a : args) {
      sb.append(sb.length() == 0 ? "" : " ");
      sb.append(a.isEmpty() || !a.matches("[A-Za-z0-9_@%+=:,./-]+") ? "'" + a.replace("'", "'\\''") + "'" : a);
    }
    return sb.toString();
  }

  /** A count with separators and its noun in the right number: {@code 1 row}, {@code 1,200 rows}. */
  static String count(long n, String noun) {
    return count(n, noun, noun + "s");
  }

  static String count(long n, String singular, String plural) {
    return number(n) + " " + io.seqpack.util.Words.noun(n, singular, plural);
  }
}
