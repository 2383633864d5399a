package dev.paddock.runtime.vault;

import dev.paddock.audit.log.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The host's own master key: 32 random bytes that wrap every tenant's data key with AES-256-GCM.
 * Kept in a file (base64, one line, readable by its owner only), made on the embedded default's
 * first start. A KMS takes its place by implementing {@link KeyWrapper}.
 */
public final class MasterKey implements KeyWrapper {
  private final byte[] key;
  private final String id;

  private MasterKey(byte[] key) {
    this.key = key;
    try {
      // Names the key in each tenant's file; a digest of a 256-bit random key says nothing of it.
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(("paddock-master-key-id\0").getBytes(StandardCharsets.UTF_8));
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(digest);
      d.update(key);
      this.id = "mk_" + HexFormat.of().formatHex(d.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The key in {@code file}; refused when others may read or change it, or it is not 32 bytes of base64. */
  public static MasterKey read(Path file) throws IOException {
    DurableFiles.requireOwnerOnly(file, "the vault master key");
    return fromBase64(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
  }

  /**
   * The key given as base64 text (an environment variable's value, for example). The text is never
   * quoted in an error.
   */
  public static MasterKey fromBase64(String text, String source) throws IOException {
    byte[] key;
    try {
      key = Base64.getDecoder().decode(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IOException("the vault master key in " + source + " is not base64");
    }
    if (key.length != 32) {
      throw new IOException("the vault master key in " + source + " is not 32 bytes");
    }
    return new MasterKey(key);
  }

  /**
   * Makes a new key in {@code file} (0600; never over an existing file), durably: a temporary file,
   * fsync, a rename, fsync of the directory, all before anything is wrapped under it. A key lost
   * to a power cut after data keys were wrapped under it would lose every secret.
   */
  public static MasterKey create(Path file) throws IOException {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    DurableFiles.createNew(file, (Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII),
        DurableFiles.OWNER_ONLY);
    return new MasterKey(key);
  }

  /** The key in {@code file}, made there first when there is none (the embedded default). */
  public static MasterKey readOrCreate(Path file) throws IOException {
    return Files.exists(file) ? read(file) : create(file);
  }

  /** The key's public name, {@code mk_} and 16 hex digits. */
  @Override
  public String id() {
    return id;
  }

  @Override
  public String wrap(byte[] dataKey, byte[] context) {
    return Aead.seal(key, dataKey, context);
  }

  @Override
  public byte[] unwrap(String wrapped, byte[] context) throws IOException {
    return Aead.open(key, wrapped, context);
  }

  @Override
  public String toString() {
    return "MasterKey[" + id + "]";
  }
}
