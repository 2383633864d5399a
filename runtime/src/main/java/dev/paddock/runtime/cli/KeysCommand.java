package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.paddock.runtime.tenant.ApiKeys;
import dev.paddock.runtime.tenant.Scope;
import dev.paddock.runtime.tenant.TenantAdmin;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code paddock keys}: API key administration on the local tenants file (operators, on the host).
 * A running host picks every change up within a second.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = {"Manages API keys in the data directory's tenants file. Keys are shown once; only their SHA-256 is stored.",
        "Scopes: sessions, exec, files, browser, audit:read, secrets, admin (all). Default: all but secrets and admin."},
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class, KeysCommand.Rotate.class})
final class KeysCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** Options every keys subcommand takes. */
  static class Common {
    @Option(names = "--tenant", required = true, description = "Tenant id ([a-z0-9-], 1-63 characters).")
    String tenant;

    @Option(names = "--data-dir", defaultValue = "${env:PADDOCK_DATA_DIR:-.paddock/data}", description = "Data directory. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    TenantAdmin admin() {
      return new TenantAdmin(dataDir.resolve("tenants.yaml"), Clock.systemUTC());
    }

    /** Reports a refused change (no such tenant or key, a name in use, an unknown scope) and exits 2. */
    static int refuse(IllegalArgumentException e) {
      System.err.println("paddock keys: " + e.getMessage());
      return 2;
    }
  }

  /** Parses "--scopes exec,files". */
  static Set<Scope> scopes(List<String> names) {
    if (names == null) {
      return null;
    }
    Set<Scope> out = EnumSet.noneOf(Scope.class);
    for (String name : names) {
      out.add(Scope.of(name.trim()).orElseThrow(() -> new IllegalArgumentException("unknown scope '" + name + "' (known: "
          + java.util.Arrays.stream(Scope.values()).map(Scope::wireName).collect(Collectors.joining(", ")) + ")")));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--scopes needs at least one scope");
    }
    return out;
  }

  private static void printNew(ApiKeys.NewKey key, String tenant) {
    System.err.println("New key " + key.keyId() + " for tenant " + tenant + " (shown only now):");
    System.out.println(key.key());
  }

  /** What create and rotate share: a key name and its scopes; the key is printed once. */
  abstract static class Issue extends Common implements Callable<Integer> {
    @Option(names = "--name", defaultValue = "default", description = "Key name. Default: ${DEFAULT-VALUE}.")
    String name;

    @Option(names = "--scopes", split = ",", paramLabel = "SCOPE",
        description = "What the key may do (sessions, exec, files, browser, audit:read, secrets, admin). Default: see above.")
    List<String> scopes;

    abstract ApiKeys.NewKey issue(TenantAdmin admin, Set<Scope> scopes) throws java.io.IOException;

    @Override
    public Integer call() throws Exception {
      try {
        printNew(issue(admin(), scopes(scopes)), tenant);
        return 0;
      } catch (IllegalArgumentException e) {
        return refuse(e);
      }
    }
  }

  /** {@code paddock keys create}. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = {"Issues a new key NAME for TENANT (creating the tenant if needed) and prints it once on stdout.",
          "NAME must not be taken by a working key of the tenant. Scopes default to all but secrets and admin."})
  static final class Create extends Issue {
    @Override
    ApiKeys.NewKey issue(TenantAdmin admin, Set<Scope> scopes) throws java.io.IOException {
      return admin.createKey(tenant, name, scopes);
    }
  }

  /** {@code paddock keys list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = {"Lists TENANT's keys: id, name, scopes, created, revoked. Never a key or its hash.",
          "With --json: one object per key and line."})
  static final class ListKeys extends Common implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON object per line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      List<TenantAdmin.KeyInfo> keys;
      try {
        keys = admin().listKeys(tenant);
      } catch (IllegalArgumentException e) {
        return refuse(e);
      }
      ObjectMapper mapper = new ObjectMapper();
      if (!json) {
        System.out.printf("%-28s %-16s %-44s %-30s %s%n", "KEY ID", "NAME", "SCOPES", "CREATED", "REVOKED");
      }
      for (TenantAdmin.KeyInfo k : keys) {
        String scopes = k.scopes().stream().map(Scope::wireName).collect(Collectors.joining(","));
        if (json) {
          ObjectNode o = mapper.createObjectNode().put("keyId", k.keyId()).put("name", k.name()).put("created", k.created());
          k.scopes().forEach(s -> o.withArray("scopes").add(s.wireName()));
          if (k.revoked() != null) {
            o.put("revoked", k.revoked());
          }
          System.out.println(mapper.writeValueAsString(o));
        } else {
          System.out.printf("%-28s %-16s %-44s %-30s %s%n", k.keyId(), k.name(), scopes, k.created(),
              k.revoked() == null ? "-" : k.revoked());
        }
      }
      return 0;
    }
  }

  /** {@code paddock keys revoke}. */
  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revokes a key by id: it stops working within a second. Its entry stays, revoked.")
  static final class Revoke extends Common implements Callable<Integer> {
    @Parameters(paramLabel = "KEY_ID", description = "The key's id (keys list).")
    String keyId;

    @Override
    public Integer call() throws Exception {
      try {
        boolean changed = admin().revokeKey(tenant, keyId);
        System.err.println(changed ? "Key " + keyId + " revoked." : "Key " + keyId + " was already revoked.");
        return 0;
      } catch (IllegalArgumentException e) {
        return refuse(e);
      }
    }
  }

  /** {@code paddock keys rotate}. */
  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {
          "Issues a new API key named NAME for TENANT (creating the tenant if needed) and prints it once on stdout.",
          "A previous key of the same name stops working within a second; the new key keeps its scopes unless --scopes is given."})
  static final class Rotate extends Issue {
    @Override
    ApiKeys.NewKey issue(TenantAdmin admin, Set<Scope> scopes) throws java.io.IOException {
      return admin.rotateKey(tenant, name, scopes);
    }
  }
}
