package dev.paddock.runtime;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Unguessable ids: a short type prefix and 128 bits from a CSPRNG in lowercase hex, e.g.
 * {@code ses_3f2a...} (36 characters). The prefix tells ids apart in logs; the bits make them
 * impossible to guess or enumerate.
 */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int RANDOM_BYTES = 16;

  private Ids() {}

  /** A new id with this prefix, e.g. {@code "ses"}. */
  public static String newId(String prefix) {
    byte[] bytes = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(bytes);
    return prefix + "_" + HexFormat.of().formatHex(bytes);
  }

  /** Random bytes from the same CSPRNG, for secrets. */
  public static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
