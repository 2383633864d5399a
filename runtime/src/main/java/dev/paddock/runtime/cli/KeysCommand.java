package dev.paddock.runtime.cli;

import dev.paddock.runtime.tenant.ApiKeys;
import dev.paddock.runtime.tenant.TenantAdmin;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock keys}: API key administration on the local tenants file. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manages API keys in the data directory's tenants file.",
    subcommands = {KeysCommand.Rotate.class})
final class KeysCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** {@code paddock keys rotate}. */
  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {
          "Issues a new API key named NAME for TENANT (creating the tenant if needed) and prints it once on stdout.",
          "A previous key of the same name stops working. A running host picks the change up within a second."})
  static final class Rotate implements Callable<Integer> {
    @Option(names = "--tenant", required = true, description = "Tenant id ([a-z0-9-], 1-63 characters).")
    String tenant;

    @Option(names = "--name", defaultValue = "default", description = "Key name. Default: ${DEFAULT-VALUE}.")
    String name;

    @Option(names = "--data-dir", defaultValue = "${env:PADDOCK_DATA_DIR:-.paddock/data}", description = "Data directory. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
      ApiKeys.NewKey key = new TenantAdmin(dataDir.resolve("tenants.yaml"), Clock.systemUTC()).rotateKey(tenant, name);
      System.err.println("New key " + key.keyId() + " for tenant " + tenant + " (shown only now):");
      System.out.println(key.key());
      return 0;
    }
  }
}
