package dev.paddock.audit.note;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A C2SP signed-note: a text ending in a newline, a blank line, then one line per signature,
 * {@code "— <key name> <base64(4-byte key hash || signature)>"}. This is the format of Go's
 * {@code golang.org/x/mod/sumdb/note}, so notes written here open there and the other way round.
 *
 * @param text the signed text, with its final newline
 * @param signatures every signature line, in order
 */
public record SignedNote(String text, List<Signature> signatures) {
  /** Starts every signature line: an em dash and a space. */
  static final String SIGNATURE_PREFIX = "\u2014 ";

  /**
   * One signature line.
   *
   * @param name the signing key's name
   * @param keyHash the signing key's hash (see {@link NoteVerifier})
   * @param signature the signature bytes, without the key hash
   */
  public record Signature(String name, int keyHash, byte[] signature) {}

  /** Splits a note into its text and signature lines; checks the form, not the signatures. */
  public static SignedNote parse(String note) throws NoteException {
    checkCharacters(note);
    int split = note.lastIndexOf("\n\n");
    if (split < 0) {
      throw new NoteException("a signed note needs a blank line between its text and its signatures");
    }
    String text = note.substring(0, split + 1);
    String lines = note.substring(split + 2);
    if (lines.isEmpty() || !lines.endsWith("\n")) {
      throw new NoteException("a signed note's signature lines must end in a newline");
    }
    List<Signature> signatures = new ArrayList<>();
    for (String line : lines.substring(0, lines.length() - 1).split("\n", -1)) {
      signatures.add(parseSignature(line));
    }
    return new SignedNote(text, List.copyOf(signatures));
  }

  private static Signature parseSignature(String line) throws NoteException {
    if (!line.startsWith(SIGNATURE_PREFIX)) {
      throw new NoteException("a signature line must start with an em dash and a space");
    }
    String rest = line.substring(SIGNATURE_PREFIX.length());
    int space = rest.indexOf(' ');
    if (space <= 0 || !NoteKeys.validName(rest.substring(0, space))) {
      throw new NoteException("a signature line is \"\u2014 <name> <base64>\"");
    }
    byte[] data;
    try {
      data = Base64.getDecoder().decode(rest.substring(space + 1));
    } catch (IllegalArgumentException e) {
      throw new NoteException("a signature is not base64");
    }
    if (data.length < 5) {
      throw new NoteException("a signature is shorter than its key hash");
    }
    return new Signature(rest.substring(0, space), NoteKeys.bigEndianInt(data, 0), java.util.Arrays.copyOfRange(data, 4, data.length));
  }

  /** A signable text: non-empty, ending in a newline, no control character but newlines. */
  static void checkText(String text) throws NoteException {
    if (text.isEmpty() || !text.endsWith("\n")) {
      throw new NoteException("a note's text must be non-empty and end in a newline");
    }
    checkCharacters(text);
  }

  private static void checkCharacters(String s) throws NoteException {
    // Java strings from UTF-8 input carry U+FFFD for bad bytes; reject them along with controls.
    if (!StandardCharsets.UTF_8.newEncoder().canEncode(s)) {
      throw new NoteException("a signed note must be valid UTF-8");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if ((c < 0x20 && c != '\n') || c == 0x7f) {
        throw new NoteException("a signed note may hold no control character but newlines");
      }
    }
  }
}
