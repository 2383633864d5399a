package dev.paddock.runtime.vault;

import java.io.IOException;

/**
 * What wraps the tenants' data keys: the host's own {@link MasterKey} in the embedded default, or
 * a key management service (KMS, HSM) whose key never leaves it. The vault only ever asks for
 * these three things, and never keeps a wrapped key's plaintext longer than one operation.
 */
public interface KeyWrapper {
  /** A public name of the wrapping key, stored beside each wrapped data key (never secret). */
  String id();

  /**
   * Encrypts {@code dataKey} bound to {@code context} (authenticated, not encrypted: the tenant, the
   * data key's id and creation time), as text for the vault file.
   */
  String wrap(byte[] dataKey, byte[] context);

  /** Decrypts a {@link #wrap} result; IOException when it was changed, moved or wrapped by another key. */
  byte[] unwrap(String wrapped, byte[] context) throws IOException;
}
