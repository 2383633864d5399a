package dev.paddock.audit.merkle;

/** A Merkle proof that does not prove what it claims; the message says why. */
public final class ProofException extends Exception {
  private static final long serialVersionUID = 1L;

  public ProofException(String message) {
    super(message);
  }
}
