package dev.paddock.audit.note;

/** A note, key or checkpoint that is malformed or does not verify; the message says why. */
public final class NoteException extends Exception {
  private static final long serialVersionUID = 1L;

  public NoteException(String message) {
    super(message);
  }
}
