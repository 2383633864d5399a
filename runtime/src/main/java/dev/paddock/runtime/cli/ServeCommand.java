package dev.paddock.runtime.cli;

import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.config.TlsConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.ApiKeys;
import dev.paddock.runtime.tenant.TenantAdmin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock serve}: runs the host. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {
        "Runs the Paddock host: gRPC on TCP, sessions with real nsjail sandboxes.",
        "On first start with an empty data directory it creates the demo tenant and prints its API key once."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "50051", description = "TCP port for gRPC (0 = any free port). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--bind", defaultValue = "127.0.0.1",
      description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only); use 0.0.0.0 to serve others.")
  String bind;

  @Option(names = "--data-dir", defaultValue = "${env:PADDOCK_DATA_DIR:-.paddock/data}",
      description = "Local state: tenants.yaml, workspaces, jail scratch. Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @picocli.CommandLine.Mixin JailOptions jail = new JailOptions();

  @Option(names = "--tls-cert", description = "PEM certificate chain: serve TLS (with --tls-key). Default: plaintext.")
  Path tlsCert;

  @Option(names = "--tls-key", description = "PEM private key (PKCS#8) of --tls-cert.")
  Path tlsKey;

  @Option(names = "--audit-ship-to", paramLabel = "DIR",
      description = "Copy every sealed audit segment and its checkpoint to DIR (another disk, a share), where they"
          + " may be kept after being removed from the data directory. Default: none.")
  Path auditShipTo;

  @Option(names = "--audit-signing-key", paramLabel = "FILE",
      description = "Sign audit checkpoints with this Ed25519 key (a signed-note private key, mode 0600; make one with"
          + " paddock audit new-key). Default: <data-dir>/audit-signing.key, made on first start.")
  Path auditSigningKey;

  @Option(names = "--vault-master-key", paramLabel = "FILE",
      description = "The secrets' master key: 32 bytes, base64, in a file readable by its owner only. Else the"
          + " environment's PADDOCK_VAULT_MASTER_KEY (the same base64), else <data-dir>/vault-master.key, made on first start.")
  Path vaultMasterKey;

  @Option(names = "--secret-key-rotation-days", paramLabel = "DAYS", defaultValue = "90",
      description = "Replace a tenant's data key once it is this many days old (checked hourly). Default: ${DEFAULT-VALUE}.")
  int secretKeyRotationDays;

  @Option(names = "--egress-host", paramLabel = "NAME=ADDRESS",
      description = "Resolve NAME to ADDRESS in the egress proxy, before the system resolver (repeatable; a name"
          + " given again gets each address). For names the host's DNS does not know. Default: none.")
  java.util.List<String> egressHosts = new java.util.ArrayList<>();

  @Option(names = "--egress-reachable", paramLabel = "CIDR",
      description = "Let jails reach special addresses (private, loopback, link-local, metadata) in CIDR when an"
          + " allow-list lets them (repeatable). Default: none: such addresses are refused after resolution.")
  java.util.List<String> egressReachable = new java.util.ArrayList<>();

  @Option(names = "--egress-ca", paramLabel = "FILE",
      description = "PEM certificates the egress proxy trusts for the TLS connections it makes itself (header secrets"
          + " with scheme https). Default: the JVM's trusted roots.")
  Path egressCa;

  @Option(names = "--browser-warm", paramLabel = "N",
      description = "Keep N blank browsers started ahead of requests, per provider (each handed out once, then"
          + " replaced; a local or container one holds about 200 MiB, a remote one is a session its service may bill)."
          + " Default: ${DEFAULT-VALUE}, every browser starts cold.", defaultValue = "0")
  int browserWarm;

  @Option(names = "--browser-warm-refill", paramLabel = "N",
      description = "How many of a provider's warm browsers may be starting at once (1 to --browser-warm): more refills"
          + " a drained pool sooner, at that many cold starts' CPU at the same time. Default: ${DEFAULT-VALUE}.",
      defaultValue = "1")
  int browserWarmRefill;

  @Option(names = "--browser-remote", paramLabel = "NAME=URL",
      description = "A remote DevTools browser provider, tried after the local one (repeatable): ws:/wss: of a browser"
          + " service, or http: of a Chromium's --remote-debugging-port. ${VAR} in the URL is read from the environment"
          + " (keep tokens off the command line). Its pages do not go through the egress proxy: a tenant gets it only"
          + " when its browser.providers names it.")
  java.util.List<String> browserRemotes = new java.util.ArrayList<>();

  @Option(names = "--browser-container", paramLabel = "NAME=IMAGE",
      description = "A container browser provider (repeatable): Chromium in a container of the Docker engine DOCKER_HOST"
          + " names, one per browser; IMAGE is a local image whose entrypoint is Chromium (scripts/browser-image builds"
          + " paddock/chromium:local), never pulled. Its pages do not go through the egress proxy: a tenant gets it only"
          + " when its browser.providers names it.")
  java.util.List<String> browserContainers = new java.util.ArrayList<>();

  @Option(names = "--browser-devtools", paramLabel = "ADDRESS:PORT|off",
      description = "Where each local browser's DevTools endpoint for stock clients (Playwright connectOverCDP, Puppeteer"
          + " connect) listens; its URLs, with the browser's token, are in CreateBrowser's answer. Default: ${DEFAULT-VALUE}"
          + " (a free port on loopback). 'off': none.", defaultValue = "127.0.0.1:0")
  String browserDevtools;

  @Option(names = "--metrics", paramLabel = "ADDRESS:PORT|off",
      description = "Where Prometheus scrapes the host's metrics (GET /metrics; no API key, so keep it where only the"
          + " scraper reaches). Default: ${DEFAULT-VALUE}. 'off': none.", defaultValue = "127.0.0.1:9464")
  String metrics;

  @Option(names = "--metrics-tenant-labels",
      description = "Label meters with the tenant's id (one series per tenant: mind the cardinality with many tenants)."
          + " Default: off (the label is '_all').")
  boolean metricsTenantLabels;

  @Option(names = "--tls-client-ca", description = "PEM CA certificates: require client certificates signed by them (mutual TLS).")
  Path tlsClientCa;

  /** ADDRESS:PORT (an IPv6 address in brackets). */
  static InetSocketAddress hostPort(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("'" + text + "': expected ADDRESS:PORT, e.g. 127.0.0.1:9222");
    }
    String address = text.substring(0, colon).replace("[", "").replace("]", "");
    try {
      return new InetSocketAddress(address, Integer.parseInt(text.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "': expected ADDRESS:PORT, e.g. 127.0.0.1:9222");
    }
  }

  @Override
  public Integer call() throws Exception {
    String logFormat = System.getProperty("PADDOCK_LOG_FORMAT", System.getenv().getOrDefault("PADDOCK_LOG_FORMAT", "text"));
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      System.err.println("paddock: PADDOCK_LOG_FORMAT must be text or json, not '" + logFormat + "' (no log would be written)");
      return 2;
    }
    Path data = dataDir.toAbsolutePath();
    Files.createDirectories(data);
    Optional<ApiKeys.NewKey> demoKey = new TenantAdmin(data.resolve("tenants.yaml"), Clock.systemUTC()).createDemoIfMissing();
    if (demoKey.isPresent()) {
      System.out.println("Created the demo tenant '" + TenantAdmin.DEMO_TENANT + "'. Its API key, shown only this once:");
      System.out.println("  PADDOCK_API_KEY=" + demoKey.get().key());
      System.out.println("(Only its SHA-256 is stored. Issue another with: paddock keys rotate --tenant demo --name NAME)");
    }
    if ((tlsCert == null) != (tlsKey == null) || (tlsClientCa != null && tlsCert == null)) {
      System.err.println("paddock: --tls-cert and --tls-key go together, and --tls-client-ca needs them");
      return 2;
    }
    TlsConfig tls = tlsCert == null ? null : new TlsConfig(tlsCert, tlsKey, tlsClientCa);
    HostConfig config = new HostConfig(new InetSocketAddress(bind, port), data, jail.nsjailBinary(),
        jail.sandboxUid, jail.sandboxGid, jail.cgroupRoot, SessionSettings.defaults(), tls)
        .withPythonProtobuf(jail.pythonProtobuf.toAbsolutePath())
        .withAuditShipTo(auditShipTo == null ? null : auditShipTo.toAbsolutePath())
        .withAuditSigningKey(auditSigningKey == null ? null : auditSigningKey.toAbsolutePath());
    try {
      config = config.withVault(vaultConfig()).withEgress(dev.paddock.runtime.egress.EgressSettings.DEFAULTS
          .withFixedNames(dev.paddock.runtime.egress.EgressSettings.parseFixedNames(egressHosts))
          .withReachable(egressReachable.stream().map(dev.paddock.runtime.egress.AddressRange::parse).toList())
          .withUpstreamCa(egressCa == null ? null : egressCa.toAbsolutePath()))
          .withBrowsers(dev.paddock.runtime.browser.BrowserSettings.DEFAULTS.withWarmPool(browserWarm)
              .withWarmRefill(browserWarmRefill)
              .withDevTools(browserDevtools.equals("off") ? null : hostPort(browserDevtools))
              .withContainers(browserContainers.stream().map(dev.paddock.runtime.browser.BrowserSettings.Container::parse)
                  .toList())
              .withRemotes(browserRemotes.stream().map(r -> dev.paddock.runtime.browser.BrowserSettings.parseRemote(r,
                  System.getenv())).toList()))
          .withMetrics(new dev.paddock.runtime.metrics.MetricsSettings(metrics.equals("off") ? null : hostPort(metrics),
              metricsTenantLabels));
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("paddock: cannot start: " + e.getMessage());
      return 2;
    }
    RuntimeServer host;
    try {
      host = RuntimeServer.start(config, Clock.systemUTC());
    } catch (IOException e) {
      // An operator's problem (data directory in use, tenants file invalid): the reason, not a stack trace.
      System.err.println("paddock: cannot start: " + e.getMessage()
          + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
      return ExecCommand.EXIT_HOST_ERROR;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(host::close, "paddock-shutdown"));
    System.out.println("paddock serving on " + bind + ":" + host.port());
    System.out.flush();
    host.awaitTermination();
    return 0;
  }

  /** --nsjail, else $PADDOCK_NSJAIL, else the project-local install. */
  static Path nsjailPath(Path flag) {
    if (flag != null) {
      return flag.toAbsolutePath();
    }
    String env = System.getenv("PADDOCK_NSJAIL");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath();
    }
    return Path.of(".paddock/tools/nsjail/nsjail/bin/nsjail").toAbsolutePath();
  }

  /** The master key from --vault-master-key, else PADDOCK_VAULT_MASTER_KEY, else the data directory's own. */
  private dev.paddock.runtime.vault.VaultConfig vaultConfig() throws IOException {
    dev.paddock.runtime.vault.MasterKey key = null;
    String fromEnvironment = System.getenv("PADDOCK_VAULT_MASTER_KEY");
    if (vaultMasterKey != null) {
      key = dev.paddock.runtime.vault.MasterKey.read(vaultMasterKey);
    } else if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      key = dev.paddock.runtime.vault.MasterKey.fromBase64(fromEnvironment, "PADDOCK_VAULT_MASTER_KEY");
    }
    return new dev.paddock.runtime.vault.VaultConfig(key, java.time.Duration.ofDays(secretKeyRotationDays));
  }
}
