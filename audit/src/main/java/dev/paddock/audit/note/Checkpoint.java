package dev.paddock.audit.note;

import dev.paddock.audit.merkle.Rfc6962;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A C2SP tlog-checkpoint: the log's origin line, its tree size in decimal, and the base64 root
 * hash of that tree, each on its own line, then optional extension lines. It is the text of a
 * signed-note.
 *
 * @param origin the log's name, unique to this log (for Paddock, {@code <host name>/paddock-audit})
 * @param size the number of records (leaves) the root covers
 * @param rootHash the RFC 6962 root of those leaves, 32 bytes
 * @param extensions further lines, each non-empty; usually none
 */
public record Checkpoint(String origin, long size, byte[] rootHash, List<String> extensions) {
  public Checkpoint {
    if (origin.isEmpty() || origin.contains("\n")) {
      throw new IllegalArgumentException("an origin is one non-empty line");
    }
    if (size < 0 || rootHash.length != Rfc6962.HASH_SIZE) {
      throw new IllegalArgumentException("a checkpoint needs a size >= 0 and a 32-byte root");
    }
    rootHash = rootHash.clone();
    extensions = List.copyOf(extensions);
  }

  /** The checkpoint's text, ready to sign. */
  public String text() {
    StringBuilder text = new StringBuilder()
        .append(origin).append('\n')
        .append(size).append('\n')
        .append(Base64.getEncoder().encodeToString(rootHash)).append('\n');
    extensions.forEach(line -> text.append(line).append('\n'));
    return text.toString();
  }

  /** Reads a checkpoint's text (for example what {@link NoteVerifier#open} returned). */
  public static Checkpoint parse(String text) throws NoteException {
    if (!text.endsWith("\n")) {
      throw new NoteException("a checkpoint ends in a newline");
    }
    String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
    if (lines.length < 3 || lines[0].isEmpty()) {
      throw new NoteException("a checkpoint has an origin, a size and a root hash, one a line");
    }
    if (!lines[1].matches("0|[1-9][0-9]{0,18}")) {
      throw new NoteException("a checkpoint's size is a decimal number without leading zeros");
    }
    long size;
    byte[] root;
    try {
      size = Long.parseLong(lines[1]);
      root = Base64.getDecoder().decode(lines[2]);
    } catch (IllegalArgumentException e) {
      throw new NoteException("a checkpoint's size or root hash is malformed");
    }
    if (root.length != Rfc6962.HASH_SIZE) {
      throw new NoteException("a checkpoint's root hash is " + root.length + " bytes, not 32");
    }
    List<String> extensions = new ArrayList<>();
    for (int i = 3; i < lines.length; i++) {
      if (lines[i].isEmpty()) {
        throw new NoteException("a checkpoint's extension lines are non-empty");
      }
      extensions.add(lines[i]);
    }
    return new Checkpoint(lines[0], size, root, extensions);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c && origin.equals(c.origin) && size == c.size
        && java.util.Arrays.equals(rootHash, c.rootHash) && extensions.equals(c.extensions);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(origin, size, java.util.Arrays.hashCode(rootHash), extensions);
  }

  @Override
  public String toString() {
    return text();
  }

  @Override
  public byte[] rootHash() {
    return rootHash.clone();
  }
}
