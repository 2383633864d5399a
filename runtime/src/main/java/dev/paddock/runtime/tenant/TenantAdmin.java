package dev.paddock.runtime.tenant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Offline changes to the tenants file: the embedded demo tenant, and keys: create, list, revoke,
 * rotate. A running host picks every change up within a second.
 */
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
    return locked(() -> {
      if (Files.exists(file)) {
        return Optional.empty();
      }
      ApiKeys.NewKey key = ApiKeys.generate();
      TenantsFile.KeyEntry k = entry(key, "default", Scope.DEFAULTS);
      TenantsFile.writeText(file, DEFAULT_FILE
          .replace("@KEY_ID@", k.id).replace("@SHA256@", k.sha256).replace("@CREATED@", k.created)
          .replace("@SCOPES@", String.join(", ", k.scopes.stream().map(sc -> "\"" + sc + "\"").toList())));
      return Optional.of(key);
    });
  }

  /**
   * The commented operator file the embedded default writes on first start: every host setting
   * and tenant budget there is, with its built-in value, and the demo tenant's first key.
   */
  private static final String DEFAULT_FILE = String.join("\n",
      "# Paddock operator configuration: host-wide settings, tenants, their budgets and their API keys.",
      "# The host re-reads this file within half a second of a change. A change that does not validate",
      "# is refused as a whole (the log lists every problem with its line) and the last good file stays",
      "# in force, except that keys it revokes or removes stop at once. Check an edit first with:",
      "#   paddock config check <this file>",
      "# `paddock keys ...` rewrites this file, and comments are not kept then.",
      "#",
      "# host:                       # for every tenant; built-in values shown; applies to new sessions and execs",
      "#   defaultIdleTimeout: 5m",
      "#   maxIdleTimeout: 24h",
      "#   defaultMaxLifetime: 1h",
      "#   maxLifetime: 24h",
      "#   defaultExecTimeout: 60s",
      "#   maxExecTimeout: 1h",
      "#   closedRetention: 10m      # how long a closed session stays readable",
      "#   clientStallTimeout: 60s   # applies at the next start",
      "#   maxOutputBytes: 256Mi     # per stream per exec; past it output is dropped (output_truncated)",
      "#   replayBytes: 256Ki        # per stream per exec, kept for AttachExec",
      "#   retainedExecs: 64         # finished execs each session keeps",
      "#   workspaceBytes: 1Gi       # each session's workspace",
      "#   workspaceInodes: 100000",
      "tenants:",
      "- id: \"demo\"",
      "  maxSessions: 100            # open sessions at once",
      "  maxExecs: 32                # running execs at once",
      "  # Kernel budgets of all its jails together (its parent cgroup); absent = the default:",
      "  # memoryBytes: 8589934592    # default three quarters of the host's memory",
      "  # maxProcesses: 4096",
      "  # cpuMillicores: 2000        # default every core",
      "  # Rates per minute (absent = no limit):",
      "  # sessionsPerMinute: 60",
      "  # execsPerMinute: 600",
      "  # maxSessionLifetime: 2h     # default the host's maxLifetime; a longer request is refused",
      "  # maxOutputBytes: 67108864   # per stream per exec; default the host's maxOutputBytes",
      "  keys:",
      "  - id: \"@KEY_ID@\"",
      "    name: \"default\"",
      "    sha256: \"@SHA256@\"     # of the whole key; the key itself is never stored",
      "    created: \"@CREATED@\"",
      "    scopes: [@SCOPES@]",
      "");


  /** A key as listed: never the key or its hash. */
  public record KeyInfo(String keyId, String name, Set<Scope> scopes, String created, String revoked) {}

  /**
   * Issues a new key named {@code name} for {@code tenantId}, replacing any key of that name (the
   * old one stops working within a second). Creates the tenant if it does not exist. Scopes: the
   * given ones, else those of the key it replaces, else {@link Scope#DEFAULTS}.
   */
  public ApiKeys.NewKey rotateKey(String tenantId, String name, Set<Scope> scopes) throws IOException {
    return locked(() -> {
      TenantsFile.Document doc = readOrNew();
      TenantsFile.TenantEntry tenant = tenantEntry(doc, tenantId, true);
      Set<Scope> granted = scopes;
      if (granted == null) {
        granted = tenant.keys.stream().filter(k -> name.equals(k.name) && k.revoked == null).findFirst()
            .map(TenantsFile::scopes).orElse(Scope.DEFAULTS);
      }
      tenant.keys.removeIf(k -> name.equals(k.name));
      ApiKeys.NewKey key = ApiKeys.generate();
      tenant.keys.add(entry(key, name, granted));
      TenantsFile.write(file, doc);
      return key;
    });
  }

  /** {@link #rotateKey(String, String, Set)} keeping the replaced key's scopes. */
  public ApiKeys.NewKey rotateKey(String tenantId, String name) throws IOException {
    return rotateKey(tenantId, name, null);
  }

  /**
   * Issues a new key named {@code name}; refuses when the tenant already has a working key of that
   * name (rotate replaces one). Creates the tenant if it does not exist.
   */
  public ApiKeys.NewKey createKey(String tenantId, String name, Set<Scope> scopes) throws IOException {
    return locked(() -> {
      TenantsFile.Document doc = readOrNew();
      TenantsFile.TenantEntry tenant = tenantEntry(doc, tenantId, true);
      if (tenant.keys.stream().anyMatch(k -> name.equals(k.name) && k.revoked == null)) {
        throw new IllegalArgumentException("tenant " + tenantId + " already has a key named " + name
            + " (revoke it, or rotate it to replace it)");
      }
      ApiKeys.NewKey key = ApiKeys.generate();
      tenant.keys.add(entry(key, name, scopes == null ? Scope.DEFAULTS : scopes));
      TenantsFile.write(file, doc);
      return key;
    });
  }

  /** The tenant's keys, oldest first, revoked ones included. */
  public List<KeyInfo> listKeys(String tenantId) throws IOException {
    TenantsFile.TenantEntry tenant = tenantEntry(readOrNew(), tenantId, false);
    List<KeyInfo> out = new ArrayList<>();
    for (TenantsFile.KeyEntry k : tenant.keys) {
      out.add(new KeyInfo(k.id, k.name, TenantsFile.scopes(k), k.created, k.revoked));
    }
    return out;
  }

  /**
   * Revokes the key with id {@code keyId}: it stops working within a second; its entry stays
   * (without it ever working again) so logs naming it still make sense.
   *
   * @return false when it was already revoked
   */
  public boolean revokeKey(String tenantId, String keyId) throws IOException {
    return locked(() -> {
      TenantsFile.Document doc = readOrNew();
      TenantsFile.TenantEntry tenant = tenantEntry(doc, tenantId, false);
      TenantsFile.KeyEntry key = tenant.keys.stream().filter(k -> keyId.equals(k.id)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("tenant " + tenantId + " has no key " + keyId));
      if (key.revoked != null) {
        return false;
      }
      key.revoked = clock.instant().toString();
      TenantsFile.write(file, doc);
      return true;
    });
  }

  /** A change made under an exclusive lock on {@code <file>.lock}, so two `paddock keys` at once cannot lose one. */
  private interface Change<T> {
    T apply() throws IOException;
  }

  private <T> T locked(Change<T> change) throws IOException {
    Path lock = file.resolveSibling(file.getFileName() + ".lock");
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(lock,
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock held = channel.lock()) {
      return change.apply();
    }
  }

  private TenantsFile.Document readOrNew() throws IOException {
    return Files.exists(file) ? TenantsFile.read(file) : new TenantsFile.Document();
  }

  private static TenantsFile.TenantEntry tenantEntry(TenantsFile.Document doc, String tenantId, boolean create) {
    new Tenant(tenantId, Tenant.DEFAULT_MAX_SESSIONS, Tenant.DEFAULT_MAX_EXECS); // validates the id
    TenantsFile.TenantEntry tenant = doc.tenants.stream().filter(t -> tenantId.equals(t.id)).findFirst().orElse(null);
    if (tenant == null) {
      if (!create) {
        throw new IllegalArgumentException("no tenant " + tenantId);
      }
      tenant = new TenantsFile.TenantEntry();
      tenant.id = tenantId;
      tenant.maxSessions = Tenant.DEFAULT_MAX_SESSIONS;
      tenant.maxExecs = Tenant.DEFAULT_MAX_EXECS;
      doc.tenants.add(tenant);
    }
    return tenant;
  }

  private TenantsFile.KeyEntry entry(ApiKeys.NewKey key, String name, Set<Scope> scopes) {
    TenantsFile.KeyEntry k = new TenantsFile.KeyEntry();
    k.id = key.keyId();
    k.name = name;
    k.sha256 = ApiKeys.sha256Hex(key.key());
    k.created = clock.instant().toString();
    k.scopes = scopes.stream().sorted().map(Scope::wireName).toList();
    return k;
  }
}
