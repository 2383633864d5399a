package dev.paddock.runtime.tenant;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Who is calling, as established by the API key and nothing else.
 *
 * @param tenantId the tenant that owns the key
 * @param keyId    the key's public id (never the key itself), for logs and audit
 * @param scopes   what the key may do
 */
public record Principal(String tenantId, String keyId, Set<Scope> scopes) {
  public Principal {
    Objects.requireNonNull(tenantId, "tenantId");
    Objects.requireNonNull(keyId, "keyId");
    scopes = scopes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(scopes));
  }

  /** A principal with the default scopes (the host acting for a tenant, tests). */
  public Principal(String tenantId, String keyId) {
    this(tenantId, keyId, Scope.DEFAULTS);
  }
}
