package dev.paddock.runtime.tenant;

import dev.paddock.runtime.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API key format and hashing. A key is {@code pdk_<key id>_<secret>}: the key id (64 random bits,
 * hex) is public and names the key in logs and audit records; the secret is 256 random bits. Only
 * the SHA-256 of the whole key is stored, so the key is shown once, when it is made.
 */
public final class ApiKeys {
  private ApiKeys() {}

  /** A freshly generated key and its public id. The key must be shown once and then forgotten. */
  public record NewKey(String keyId, String key) {
    @Override
    public String toString() {
      return "NewKey[keyId=" + keyId + ", key=<redacted>]";
    }
  }

  public static NewKey generate() {
    String keyId = "key_" + HexFormat.of().formatHex(Ids.randomBytes(8));
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(Ids.randomBytes(32));
    return new NewKey(keyId, "pdk_" + keyId.substring(4) + "_" + secret);
  }

  /** Lowercase hex SHA-256 of the key's UTF-8 bytes. */
  public static String sha256Hex(String key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
