package dev.paddock.audit.merkle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * RFC 6962 (section 2.1) hashing with SHA-256: a leaf is hashed as {@code SHA-256(0x00 || data)}, an
 * interior node as {@code SHA-256(0x01 || left || right)}. The prefixes keep a leaf from ever being
 * mistaken for a node (second-preimage resistance of the tree).
 */
public final class Rfc6962 {
  /** Length of every hash, bytes. */
  public static final int HASH_SIZE = 32;

  private static final byte LEAF_PREFIX = 0x00;
  private static final byte NODE_PREFIX = 0x01;
  /** One digest per thread: looking one up per hash cost about as much as the hash of a record. */
  private static final ThreadLocal<MessageDigest> DIGESTS = ThreadLocal.withInitial(Rfc6962::newSha256);
  private static final byte[] EMPTY_ROOT = newSha256().digest();

  private Rfc6962() {}

  /** The hash of the leaf whose data is {@code data}. */
  public static byte[] leafHash(byte[] data) {
    MessageDigest digest = sha256();
    digest.update(LEAF_PREFIX);
    digest.update(data);
    return digest.digest();
  }

  /** The hash of the interior node with children {@code left} and {@code right}. */
  public static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest digest = sha256();
    digest.update(NODE_PREFIX);
    digest.update(left);
    digest.update(right);
    return digest.digest();
  }

  /** The hash of the interior node whose two children are the hashes at {@code offset} and {@code offset + 32} of {@code pair}. */
  public static byte[] nodeHash(byte[] pair, int offset) {
    MessageDigest digest = sha256();
    digest.update(NODE_PREFIX);
    digest.update(pair, offset, 2 * HASH_SIZE);
    return digest.digest();
  }

  /** The root of the empty tree: SHA-256 of no bytes. */
  public static byte[] emptyRoot() {
    return EMPTY_ROOT.clone();
  }

  /** This thread's SHA-256, reset (each {@code digest()} call leaves it so). */
  private static MessageDigest sha256() {
    return DIGESTS.get();
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
