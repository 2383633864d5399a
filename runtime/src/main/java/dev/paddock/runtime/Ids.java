package dev.paddock.runtime;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

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

  /** True when {@code id} has the shape of an id made by {@link #newId(String)} with {@code prefix}. */
  public static boolean isWellFormed(String prefix, String id) {
    return id != null && pattern(prefix).matcher(id).matches();
  }

  private static Pattern pattern(String prefix) {
    return Pattern.compile(Pattern.quote(prefix) + "_[0-9a-f]{" + (RANDOM_BYTES * 2) + "}");
  }

  /** Random bytes from the same CSPRNG, for secrets. */
  public static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
