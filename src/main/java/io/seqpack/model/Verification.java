package io.seqpack.model;

import io.seqpack.util.Checks;


/**
 * Whether the exporter compared the model with its PyTorch module's own {@code forward} on ragged batches before
 * writing it (the {@code "export"} block of a version-2 {@code model.json}). seqpack scores what the files say;
 * only this check ties the files to what the module computes, so an unverified model is named in
 * {@code inspect-model} and the run summary.
 */
public enum Verification {
  VERIFIED("verified", "verified against the module's own forward at export"),
  NOT_VERIFIED("not_verified", "NOT verified against the module's forward (exported with --no-verify)"),
  UNKNOWN("unknown", "not recorded (a model.json without an \"export\" block: an older export, or written by hand)");

  private final String spelling;
  private final String description;

  Verification(String spelling, String description) {
    this.spelling = spelling;
    this.description = description;
  }

  /** The value in the run summary ({@code model_verification}). */
  public String spelling() {
    return spelling;
  }

  /** One line for {@code inspect-model}. */
  public String description() {
    return description;
  }

  /**
   * The {@code "export"} block of a version-2 {@code model.json}, as the exporter writes it: whether the module's
   * forward was compared, and how (tolerance, rows and batches compared, layout, whether lengths were equal, and
   * for a half-precision file how far rounding moved the scores).
   */
  record Export(Boolean verified, Double tolerance,
      Integer rows, Integer batches,
      String layout, Boolean equalLengths,
      Double roundingMaxAbsDiff) {
    Export {
      Checks.required("verified", verified, "true or false");
    }
  }

  /** What an {@code "export"} block (null when absent) says. */
  static Verification of(Export export) {
    return export == null ? UNKNOWN : export.verified() ? VERIFIED : NOT_VERIFIED;
  }

  /** Parses a summary's {@code model_verification} value. */
  public static Verification of(String spelling) {
    for (Verification v : values()) {
      if (v.spelling.equals(spelling)) {
        return v;
      }
    }
    throw new IllegalArgumentException("model_verification is " + spelling + ", expected verified, not_verified "
        + "or unknown");
  }
}
