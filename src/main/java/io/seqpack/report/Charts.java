package io.seqpack.report;

import static io.seqpack.report.Html.c;
import static io.seqpack.report.Html.esc;

import java.util.List;

/**
 * Inline-SVG charts of a fixed size. Every chart is one {@code <svg data-chart="NAME">}; bars are {@code <rect
 * class="bar">}, points {@code <circle class="point">}, bucket boundaries {@code <line class="boundary">}, and an
 * empty chart has a {@code <text class="empty">} instead. Every mark has a {@code <title>} with its exact value
 * (the browser shows it on hover; no script is involved).
 */
final class Charts {
  private Charts() {}

  static final int W = 560;
  static final int H = 280;
  private static final int ML = 68;
  private static final int MR = 20;
  private static final int MT = 22;
  private static final int MB = 50;
  private static final int PW = W - ML - MR;
  private static final int PH = H - MT - MB;
  /** Rough width of one character of an 11px label, for deciding what fits. */
  private static final double CHAR_PX = 6.6;

  /** A linear axis from lo to hi with ticks every step. */
  private record Axis(double lo, double hi, double step) {
    double frac(double v) {
      return (v - lo) / (hi - lo);
    }

    double scale() {
      return Math.max(Math.abs(lo), Math.abs(hi));
    }
  }

  private static double niceStep(double span, int target) {
    double raw = span / target;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / mag;
    double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return m * mag;
  }

  /** 0 .. a round number at or above max. */
  private static Axis countAxis(double max) {
    if (!(max > 0)) {
      max = 1;
    }
    double step = niceStep(max, 5);
    double top = Math.ceil(max / step - 1e-9) * step;
    return new Axis(0, top, step);
  }

  /** Exactly lo .. hi, ticks at round values inside. */
  private static Axis rangeAxis(double lo, double hi) {
    if (!(hi > lo)) {
      hi = lo + 1;
    }
    return new Axis(lo, hi, niceStep(hi - lo, 6));
  }

  private static double x(Axis a, double v) {
    return ML + a.frac(v) * PW;
  }

  private static double y(Axis a, double v) {
    return MT + PH - a.frac(Math.max(a.lo, Math.min(a.hi, v))) * PH;
  }

  private static StringBuilder open(String name, String description) {
    return open(name, description, H);
  }

  /** An svg {@code height} tall: the plot keeps its place, the extra height is room for long axis labels. */
  private static StringBuilder open(String name, String description, int height) {
    return new StringBuilder(4096)
        .append("<svg data-chart=\"").append(esc(name)).append("\" viewBox=\"0 0 ").append(W).append(' ')
        .append(height).append("\" width=\"").append(W).append("\" height=\"").append(height)
        .append("\" role=\"img\" aria-label=\"").append(esc(description)).append("\">\n");
  }

  /** A chart frame that says {@code message} (e.g. "no data") and has no marks. */
  static String empty(String name, String description, String message) {
    return open(name, description)
        .append("<rect class=\"frame\" x=\"").append(ML).append("\" y=\"").append(MT).append("\" width=\"")
        .append(PW).append("\" height=\"").append(PH).append("\"/>\n")
        .append("<text class=\"empty\" x=\"").append(ML + PW / 2).append("\" y=\"").append(MT + PH / 2 + 5)
        .append("\" text-anchor=\"middle\">").append(esc(message)).append("</text>\n</svg>").toString();
  }

  private static void yAxis(StringBuilder sb, Axis a, String label, boolean percent) {
    int n = (int) Math.round((a.hi - a.lo) / a.step);
    for (int i = 0; i <= n; i++) {
      double v = a.lo + i * a.step;
      String yy = c(y(a, v));
      sb.append("<line class=\"grid\" x1=\"").append(ML).append("\" x2=\"").append(ML + PW).append("\" y1=\"")
          .append(yy).append("\" y2=\"").append(yy).append("\"/>")
          .append("<text class=\"tick\" x=\"").append(ML - 6).append("\" y=\"").append(c(y(a, v) + 4))
          .append("\" text-anchor=\"end\">")
          .append(percent ? Math.round(v * 100) + "%" : Html.tick(v, a.step, a.scale())).append("</text>\n");
    }
    sb.append("<text class=\"label\" transform=\"rotate(-90)\" x=\"").append(c(-(MT + PH / 2.0)))
        .append("\" y=\"14\" text-anchor=\"middle\">").append(esc(label)).append("</text>\n");
  }

  private static void xAxisNumeric(StringBuilder sb, Axis a, String label) {
    double first = Math.ceil(a.lo / a.step - 1e-9) * a.step;
    for (int i = 0; ; i++) {
      double v = first + i * a.step;
      if (v > a.hi + a.step * 1e-6 || i > 100) {
        break;
      }
      String xx = c(x(a, v));
      sb.append("<line class=\"tickmark\" x1=\"").append(xx).append("\" x2=\"").append(xx).append("\" y1=\"")
          .append(MT + PH).append("\" y2=\"").append(MT + PH + 4).append("\"/>")
          .append("<text class=\"tick\" x=\"").append(xx).append("\" y=\"").append(MT + PH + 17)
          .append("\" text-anchor=\"middle\">").append(Html.tick(v, a.step, a.scale())).append("</text>\n");
    }
    xLabel(sb, label);
  }

  private static void xLabel(StringBuilder sb, String label) {
    xLabel(sb, label, H);
  }

  private static void xLabel(StringBuilder sb, String label, int height) {
    sb.append("<text class=\"label\" x=\"").append(ML + PW / 2).append("\" y=\"").append(height - 8)
        .append("\" text-anchor=\"middle\">").append(esc(label)).append("</text>\n");
  }

  private static void axes(StringBuilder sb) {
    sb.append("<line class=\"axis\" x1=\"").append(ML).append("\" x2=\"").append(ML).append("\" y1=\"").append(MT)
        .append("\" y2=\"").append(MT + PH).append("\"/>")
        .append("<line class=\"axis\" x1=\"").append(ML).append("\" x2=\"").append(ML + PW).append("\" y1=\"")
        .append(MT + PH).append("\" y2=\"").append(MT + PH).append("\"/>\n");
  }

  private static void rect(StringBuilder sb, String cls, double x, double y, double w, double h, String title) {
    sb.append("<rect class=\"").append(cls).append("\" x=\"").append(c(x)).append("\" y=\"").append(c(y))
        .append("\" width=\"").append(c(w)).append("\" height=\"").append(c(h)).append("\"><title>")
        .append(esc(title)).append("</title></rect>\n");
  }

  /** A second series over a histogram's bins, drawn as a step line ({@code path.baseline}). */
  record Overlay(double[] values, String title) {}

  /**
   * Bars over numeric bins {@code [edges[i], edges[i+1])}, plus a dashed {@code line.boundary} at each value of
   * {@code boundaries} that falls inside the x range.
   *
   * @param binLabel text for a bin's tooltip, given the two edges, e.g. {@code "length 8–15"}
   * @param boundaryLabels the short label drawn at the top of each boundary line (same length as boundaries)
   * @param boundaryTitles the tooltip of each boundary line
   */
  static String histogram(String name, String description, String xLabel, String yLabel, double[] edges,
      double[] counts, String[] binLabels, String countUnit, double[] boundaries, String[] boundaryLabels,
      String[] boundaryTitles, Overlay overlay) {
    StringBuilder sb = open(name, description);
    double max = 0;
    for (double v : counts) {
      max = Math.max(max, v);
    }
    for (double v : overlay == null ? new double[0] : overlay.values()) {
      max = Math.max(max, v);
    }
    Axis ya = countAxis(max);
    Axis xa = rangeAxis(edges[0], edges[edges.length - 1]);
    yAxis(sb, ya, yLabel, false);
    for (int i = 0; i < counts.length; i++) {
      double x0 = x(xa, edges[i]);
      double x1 = x(xa, edges[i + 1]);
      double gap = x1 - x0 > 4 ? 1 : 0;
      double top = y(ya, Math.max(0, counts[i]));
      rect(sb, "bar", x0 + gap / 2, top, Math.max(x1 - x0 - gap, 0.5), MT + PH - top,
          binLabels[i] + ": " + Html.number(counts[i]) + " " + countUnit);
    }
    if (overlay != null) { // a step line over the same bins
      StringBuilder d = new StringBuilder();
      for (int i = 0; i < overlay.values().length; i++) {
        double top = y(ya, Math.max(0, overlay.values()[i]));
        d.append(i == 0 ? "M" : " L").append(c(x(xa, edges[i]))).append(' ').append(c(top)).append(" L")
            .append(c(x(xa, edges[i + 1]))).append(' ').append(c(top));
      }
      sb.append("<path class=\"baseline\" d=\"").append(d).append("\"><title>").append(esc(overlay.title()))
          .append("</title></path>\n");
    }
    double lastLabelX = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < boundaries.length; i++) {
      double b = boundaries[i];
      if (b < xa.lo || b > xa.hi) {
        continue;
      }
      String xx = c(x(xa, b));
      sb.append("<line class=\"boundary\" x1=\"").append(xx).append("\" x2=\"").append(xx).append("\" y1=\"")
          .append(MT).append("\" y2=\"").append(MT + PH).append("\"><title>").append(esc(boundaryTitles[i]))
          .append("</title></line>\n");
      double px = x(xa, b);
      double width = boundaryLabels[i].length() * CHAR_PX;
      if (px - lastLabelX >= width + 6) {
        boolean left = px + 3 + width > W - 2; // near the right edge: label to the left of the line
        sb.append("<text class=\"boundary-label\" x=\"").append(c(left ? px - 3 : px + 3)).append("\" y=\"")
            .append(MT - 6).append(left ? "\" text-anchor=\"end\">" : "\">").append(esc(boundaryLabels[i]))
            .append("</text>\n");
        lastLabelX = px;
      }
    }
    axes(sb);
    xAxisNumeric(sb, xa, xLabel);
    return sb.append("</svg>").toString();
  }

  /**
   * One bar per category, every category labelled under its bar: across when the labels fit, else turned upright
   * (the chart grows taller for them).
   *
   * @param fixedMax if not null the y axis runs 0..fixedMax (used for ratios), else 0..a round max
   * @param percentAxis y tick labels as percentages of 1
   */
  static String bars(String name, String description, String xLabel, String yLabel, List<String> labels,
      double[] values, String[] valueTexts, String[] titles, Double fixedMax, boolean percentAxis) {
    return categories(name, description, xLabel, yLabel, labels, values, valueTexts, titles, fixedMax, percentAxis,
        new Boundaries(new double[0], new String[0], new String[0]));
  }

  /**
   * Dashed {@code line.boundary} marks over category bars.
   *
   * @param positions in category units: 0 is the left edge of the first bar's slot, 1 its right edge
   * @param labels the short label drawn at the top of each line
   * @param titles the tooltip of each line
   */
  record Boundaries(double[] positions, String[] labels, String[] titles) {}

  /** {@link #bars} with boundary lines over the bars (a histogram of classes with the buckets' upper ends). */
  static String categories(String name, String description, String xLabel, String yLabel, List<String> labels,
      double[] values, String[] valueTexts, String[] titles, Double fixedMax, boolean percentAxis,
      Boundaries boundaries) {
    int n = values.length;
    double slot = (double) PW / n;
    int maxLabel = 1;
    for (String l : labels) {
      maxLabel = Math.max(maxLabel, l.length());
    }
    // across if they fit; upright when a slot is at least one line of text wide; else every k-th upright
    boolean across = maxLabel * CHAR_PX <= slot - 4;
    int every = across ? 1 : (int) Math.ceil(13 / slot);
    int labelPx = (int) Math.ceil(maxLabel * CHAR_PX);
    int height = across ? H : H + Math.max(0, labelPx - 22);
    StringBuilder sb = open(name, description, height);
    double max = 0;
    for (double v : values) {
      max = Math.max(max, v);
    }
    Axis ya = fixedMax != null ? new Axis(0, fixedMax, fixedMax / 4) : countAxis(max);
    yAxis(sb, ya, yLabel, percentAxis);
    double bw = Math.min(slot * 0.7, 70);
    for (int i = 0; i < n; i++) {
      double x0 = ML + i * slot + (slot - bw) / 2;
      double top = y(ya, Math.max(0, values[i]));
      if (values[i] > 0) {
        top = Math.min(top, MT + PH - 1.5); // a count of 1 next to thousands still shows
      }
      rect(sb, "bar", x0, top, bw, MT + PH - top, titles[i]);
      double cx = ML + i * slot + slot / 2;
      if (slot >= valueTexts[i].length() * CHAR_PX + 4) {
        sb.append("<text class=\"value\" x=\"").append(c(cx)).append("\" y=\"").append(c(top - 4))
            .append("\" text-anchor=\"middle\">").append(esc(valueTexts[i])).append("</text>\n");
      }
      if (i % every != 0) {
        continue;
      }
      if (across) {
        sb.append("<text class=\"tick\" x=\"").append(c(cx)).append("\" y=\"").append(MT + PH + 17)
            .append("\" text-anchor=\"middle\">").append(esc(labels.get(i))).append("</text>\n");
      } else {
        sb.append("<text class=\"tick\" transform=\"translate(").append(c(cx + 4)).append(' ').append(MT + PH + 6)
            .append(") rotate(-90)\" text-anchor=\"end\">").append(esc(labels.get(i))).append("</text>\n");
      }
    }
    double lastLabelX = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < boundaries.positions().length; i++) {
      double px = ML + boundaries.positions()[i] * slot;
      String xx = c(px);
      sb.append("<line class=\"boundary\" x1=\"").append(xx).append("\" x2=\"").append(xx).append("\" y1=\"")
          .append(MT).append("\" y2=\"").append(MT + PH).append("\"><title>").append(esc(boundaries.titles()[i]))
          .append("</title></line>\n");
      double width = boundaries.labels()[i].length() * CHAR_PX;
      if (px - lastLabelX >= width + 6) {
        boolean left = px + 3 + width > W - 2; // near the right edge: label to the left of the line
        sb.append("<text class=\"boundary-label\" x=\"").append(c(left ? px - 3 : px + 3)).append("\" y=\"")
            .append(MT - 6).append(left ? "\" text-anchor=\"end\">" : "\">").append(esc(boundaries.labels()[i]))
            .append("</text>\n");
        lastLabelX = px;
      }
    }
    axes(sb);
    xLabel(sb, xLabel, height);
    return sb.append("</svg>").toString();
  }

  /** A polyline through (xs[i], ys[i]) with a {@code circle.point} at each, both axes from 0. */
  static String line(String name, String description, String xLabel, String yLabel, double[] xs, double[] ys,
      String[] titles) {
    StringBuilder sb = open(name, description);
    double maxX = 0;
    double maxY = 0;
    for (int i = 0; i < xs.length; i++) {
      maxX = Math.max(maxX, xs[i]);
      maxY = Math.max(maxY, ys[i]);
    }
    Axis ya = countAxis(maxY);
    Axis xa = countAxis(maxX);
    yAxis(sb, ya, yLabel, false);
    StringBuilder pts = new StringBuilder();
    for (int i = 0; i < xs.length; i++) {
      pts.append(i == 0 ? "" : " ").append(c(x(xa, xs[i]))).append(',').append(c(y(ya, ys[i])));
    }
    sb.append("<polyline class=\"series\" points=\"").append(pts).append("\"/>\n");
    for (int i = 0; i < xs.length; i++) {
      sb.append("<circle class=\"point\" cx=\"").append(c(x(xa, xs[i]))).append("\" cy=\"")
          .append(c(y(ya, ys[i]))).append("\" r=\"").append(xs.length > 60 ? "2" : "3.5").append("\"><title>")
          .append(esc(titles[i])).append("</title></circle>\n");
    }
    axes(sb);
    xAxisNumeric(sb, xa, xLabel);
    return sb.append("</svg>").toString();
  }
}
