package dev.paddock.runtime.policy;

/** A policy pack that is refused: unsigned, altered, signed by an unknown key, invalid, or too old. */
public final class PackException extends Exception {
  private static final long serialVersionUID = 1L;

  public PackException(String message) {
    super(message);
  }
}
