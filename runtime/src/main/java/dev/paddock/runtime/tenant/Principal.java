package dev.paddock.runtime.tenant;

import java.util.Objects;

/**
 * Who is calling, as established by the API key and nothing else.
 *
 * @param tenantId the tenant that owns the key
 * @param keyId    the key's public id (never the key itself), for logs and audit
 */
public record Principal(String tenantId, String keyId) {
  public Principal {
    Objects.requireNonNull(tenantId, "tenantId");
    Objects.requireNonNull(keyId, "keyId");
  }
}
