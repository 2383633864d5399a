package dev.paddock.runtime.tenant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/** Offline changes to the tenants file: the embedded demo tenant, and key creation and rotation. */
public final class TenantAdmin {
  /** The tenant the embedded default creates. */
  public static final String DEMO_TENANT = "demo";

  private final Path file;
  private final Clock clock;

  public TenantAdmin(Path file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  /**
   * Creates the tenants file with the demo tenant and one key when the file does not exist yet.
   *
   * @return the new key (to be shown once), or empty when the file already existed
   */
  public Optional<ApiKeys.NewKey> createDemoIfMissing() throws IOException {
    if (Files.exists(file)) {
      return Optional.empty();
    }
    TenantsFile.Document doc = new TenantsFile.Document();
    TenantsFile.TenantEntry demo = new TenantsFile.TenantEntry();
    demo.id = DEMO_TENANT;
    demo.maxSessions = Tenant.DEFAULT_MAX_SESSIONS;
    demo.maxExecs = Tenant.DEFAULT_MAX_EXECS;
    doc.tenants.add(demo);
    ApiKeys.NewKey key = ApiKeys.generate();
    demo.keys.add(entry(key, "default"));
    TenantsFile.write(file, doc);
    return Optional.of(key);
  }

  /**
   * Issues a new key named {@code name} for {@code tenantId}, replacing any key of that name (the
   * old one stops working at once). Creates the tenant if it does not exist.
   */
  public ApiKeys.NewKey rotateKey(String tenantId, String name) throws IOException {
    new Tenant(tenantId, Tenant.DEFAULT_MAX_SESSIONS, Tenant.DEFAULT_MAX_EXECS); // validates the id
    TenantsFile.Document doc = Files.exists(file) ? TenantsFile.read(file) : new TenantsFile.Document();
    TenantsFile.TenantEntry tenant = doc.tenants.stream().filter(t -> tenantId.equals(t.id)).findFirst().orElse(null);
    if (tenant == null) {
      tenant = new TenantsFile.TenantEntry();
      tenant.id = tenantId;
      tenant.maxSessions = Tenant.DEFAULT_MAX_SESSIONS;
      tenant.maxExecs = Tenant.DEFAULT_MAX_EXECS;
      doc.tenants.add(tenant);
    }
    tenant.keys.removeIf(k -> name.equals(k.name));
    ApiKeys.NewKey key = ApiKeys.generate();
    tenant.keys.add(entry(key, name));
    TenantsFile.write(file, doc);
    return key;
  }

  private TenantsFile.KeyEntry entry(ApiKeys.NewKey key, String name) {
    TenantsFile.KeyEntry k = new TenantsFile.KeyEntry();
    k.id = key.keyId();
    k.name = name;
    k.sha256 = ApiKeys.sha256Hex(key.key());
    k.created = clock.instant().toString();
    return k;
  }
}
