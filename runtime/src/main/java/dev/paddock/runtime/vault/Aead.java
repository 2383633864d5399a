package dev.paddock.runtime.vault;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** AES-256-GCM with a random 96-bit nonce, as base64 of nonce || ciphertext || tag. */
final class Aead {
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private Aead() {}

  static String seal(byte[] key, byte[] plain, byte[] context) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
      gcm.updateAAD(context);
      byte[] sealed = gcm.doFinal(plain);
      return Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is part of every Java runtime", e);
    }
  }

  /** Decrypts; a ciphertext that was changed, moved or made under another key is refused. */
  static byte[] open(byte[] key, String sealedText, byte[] context) throws IOException {
    byte[] sealed;
    try {
      sealed = Base64.getDecoder().decode(sealedText == null ? "" : sealedText);
    } catch (IllegalArgumentException e) {
      throw new IOException("a vault entry is not base64: the vault file was edited");
    }
    if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new IOException("a vault entry is too short: the vault file was edited");
    }
    try {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      gcm.updateAAD(context);
      return gcm.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (javax.crypto.AEADBadTagException e) {
      throw new IOException("a vault entry does not decrypt: it was changed, moved to another name or tenant, or"
          + " made under another key");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is part of every Java runtime", e);
    }
  }
}
