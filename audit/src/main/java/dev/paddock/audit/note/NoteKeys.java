package dev.paddock.audit.note;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** What signers and verifiers of C2SP signed-notes share: key names and key hashes. */
final class NoteKeys {
  /** The signed-note algorithm byte for Ed25519. */
  static final byte ALG_ED25519 = 0x01;

  private NoteKeys() {}

  /**
   * The key hash that names a key in signatures: the first four bytes, big-endian, of
   * SHA-256(name || "\n" || algorithm byte || public key).
   */
  static int keyHash(String name, byte[] algAndPublicKey) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(name.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) '\n');
      sha.update(algAndPublicKey);
      return bigEndianInt(sha.digest(), 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** A key's text form, {@code <name>+<8 hex digits>+<base64(algorithm byte || key)>}, read. */
  record KeyText(String name, int hash, byte[] algAndKey) {}

  /**
   * Reads {@code <name>+<hash>+<base64 data>} whose data is the Ed25519 algorithm byte and
   * {@code keySize} bytes, and checks the hash against name and data. {@code what} names the form
   * in messages, which never quote the key.
   */
  static KeyText parseKeyText(String text, int keySize, String what) throws NoteException {
    String[] parts = text.split("\\+", 3);
    if (parts.length != 3 || !validName(parts[0]) || !parts[1].matches("[0-9a-f]{8}")) {
      throw new NoteException("a " + what + " is <name>+<8 hex digits>+<base64 key>");
    }
    byte[] data;
    try {
      data = java.util.Base64.getDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      throw new NoteException("the " + what + "'s key data is not base64");
    }
    if (data.length != 1 + keySize || data[0] != ALG_ED25519) {
      throw new NoteException("the " + what + " is not an Ed25519 key");
    }
    return new KeyText(parts[0], Integer.parseUnsignedInt(parts[1], 16), data);
  }

  /** {@code bytes[offset..offset+4)} as a big-endian int. */
  static int bigEndianInt(byte[] bytes, int offset) {
    return ((bytes[offset] & 0xff) << 24) | ((bytes[offset + 1] & 0xff) << 16) | ((bytes[offset + 2] & 0xff) << 8)
        | (bytes[offset + 3] & 0xff);
  }

  /** A key name: non-empty, with no whitespace and no '+' (they delimit the key text forms). */
  static boolean validName(String name) {
    if (name == null || name.isEmpty()) {
      return false;
    }
    return name.codePoints().noneMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '+'
        || Character.isISOControl(c));
  }
}
