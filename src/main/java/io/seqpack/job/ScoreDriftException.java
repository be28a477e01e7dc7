package io.seqpack.job;

/**
 * A run refused because a head's scores drifted more than {@code --max-drift} from the baseline's; nothing was
 * published. The CLI prints the message as it is and exits 3.
 */
public final class ScoreDriftException extends JobFailedException {
  public ScoreDriftException(String head, double psi, double maxDrift, String baseline) {
    super("seqpack: score drift: head '" + head + "' PSI " + psi + " > " + maxDrift + " against " + baseline
        + "; nothing was published (raise --max-drift to accept)");
  }
}
