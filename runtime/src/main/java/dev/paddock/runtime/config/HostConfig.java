package dev.paddock.runtime.config;

import dev.paddock.runtime.session.SessionSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a host runs.
 *
 * @param listen     TCP address to serve gRPC on. Default 127.0.0.1:50051 (loopback only).
 * @param dataDir    local state: tenants.yaml, jail scratch files, the host lock (workspaces live in each jail). Default ./.paddock/data.
 * @param nsjail     the nsjail binary. Default the one scripts/setup installs.
 * @param sandboxUid host uid jailed processes run as; never 0. Default 99999.
 * @param sandboxGid host gid likewise. Default 99999.
 * @param cgroupRoot where cgroups are mounted. Default /sys/fs/cgroup.
 * @param sessions   session and exec defaults and ceilings
 * @param tls        TLS for the gRPC port, or null for plaintext (fine on loopback only)
 * @param init       the paddock-init binary, or null for the one packed in the build
 * @param pythonProtobuf the Python protobuf runtime (7.x) mounted into every jail for the Python
 *                   agent SDK, or null for none (then the SDK works only where the jail's python3
 *                   has one). scripts/setup installs one under .paddock/tools/python-protobuf.
 * @param auditShipTo a second directory every sealed audit segment and its checkpoint are copied
 *                   to (retention: the local copies may then be removed), or null for none
 * @param auditSigningKey the audit log's Ed25519 signing key (a signed-note private key file, mode
 *                   0600 or stricter, e.g. made by {@code paddock audit new-key}), or null for the
 *                   data directory's own, made on first start
 * @param vault      the secrets' master key and data key rotation period; null for the defaults
 *                   ({@link dev.paddock.runtime.vault.VaultConfig#defaults})
 * @param egress     the egress proxy's fixed names, reachable special addresses and limits; null
 *                   for the defaults (no fixed names, no special address reachable)
 * @param browsers   browser providers and their warm pool; null for the defaults (a local
 *                   Chromium, no warm pool)
 * @param metrics    the Prometheus endpoint and its labels; null for none ({@link
 *                   dev.paddock.runtime.metrics.MetricsSettings#OFF})
 * @param tracing    where traces go; null for the environment's OTEL_* settings ({@link
 *                   dev.paddock.runtime.trace.HostTracing#fromEnvironment}), off when it has none
 */
public record HostConfig(
    InetSocketAddress listen,
    Path dataDir,
    Path nsjail,
    int sandboxUid,
    int sandboxGid,
    Path cgroupRoot,
    SessionSettings sessions,
    TlsConfig tls,
    Path init,
    Path pythonProtobuf,
    Path auditShipTo,
    Path auditSigningKey,
    dev.paddock.runtime.vault.VaultConfig vault,
    dev.paddock.runtime.egress.EgressSettings egress,
    dev.paddock.runtime.browser.BrowserSettings browsers,
    dev.paddock.runtime.metrics.MetricsSettings metrics,
    dev.paddock.runtime.trace.HostTracing tracing) {

  public HostConfig {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(nsjail, "nsjail");
    Objects.requireNonNull(cgroupRoot, "cgroupRoot");
    Objects.requireNonNull(sessions, "sessions");
    vault = vault == null ? dev.paddock.runtime.vault.VaultConfig.defaults() : vault;
    egress = egress == null ? dev.paddock.runtime.egress.EgressSettings.DEFAULTS : egress;
    browsers = browsers == null ? dev.paddock.runtime.browser.BrowserSettings.DEFAULTS : browsers;
    metrics = metrics == null ? dev.paddock.runtime.metrics.MetricsSettings.OFF : metrics;
  }

  /** The same host with {@code browsers} as its browser settings. */
  /** This config with its traces going to {@code tracing}. */
  public HostConfig withTracing(dev.paddock.runtime.trace.HostTracing tracing) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** This config with {@code metrics}. */
  public HostConfig withMetrics(dev.paddock.runtime.metrics.MetricsSettings metrics) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  public HostConfig withBrowsers(dev.paddock.runtime.browser.BrowserSettings browsers) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** The same host with {@code egress} as its egress proxy's settings. */
  public HostConfig withEgress(dev.paddock.runtime.egress.EgressSettings egress) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** A host without a Python protobuf runtime for its jails. */
  public HostConfig(InetSocketAddress listen, Path dataDir, Path nsjail, int sandboxUid, int sandboxGid,
      Path cgroupRoot, SessionSettings sessions, TlsConfig tls, Path init) {
    this(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, null, null, null, null, null, null, null,
        null);
  }

  /** The same host with {@code dir} as the jails' Python protobuf runtime. */
  public HostConfig withPythonProtobuf(Path dir) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, dir, auditShipTo,
        auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** The same host shipping each sealed audit segment (and its checkpoint) to {@code dir}. */
  public HostConfig withAuditShipTo(Path dir) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf, dir,
        auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** The same host signing its audit checkpoints with the key in {@code file}. */
  public HostConfig withAuditSigningKey(Path file) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, file, vault, egress, browsers, metrics, tracing);
  }

  /** The same host keeping secrets as {@code vault} says. */
  public HostConfig withVault(dev.paddock.runtime.vault.VaultConfig vault) {
    return new HostConfig(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, init, pythonProtobuf,
        auditShipTo, auditSigningKey, vault, egress, browsers, metrics, tracing);
  }

  /** A host with the packed paddock-init. */
  public HostConfig(InetSocketAddress listen, Path dataDir, Path nsjail, int sandboxUid, int sandboxGid,
      Path cgroupRoot, SessionSettings sessions, TlsConfig tls) {
    this(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, tls, null);
  }

  /** A plaintext host. */
  public HostConfig(InetSocketAddress listen, Path dataDir, Path nsjail, int sandboxUid, int sandboxGid,
      Path cgroupRoot, SessionSettings sessions) {
    this(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, null);
  }

  public Path tenantsFile() {
    return dataDir.resolve("tenants.yaml");
  }

  /** The host's private binaries (paddock-init copied out of the build), mode 0700. */
  public Path bin() {
    return dataDir.resolve("bin");
  }

  /** The lock file that keeps a second host off this data directory. */
  public Path lockFile() {
    return dataDir.resolve("host.lock");
  }

  public Path scratch() {
    return dataDir.resolve("scratch");
  }

  /** Artifacts tools recorded, emptied at each start. */
  public Path artifacts() {
    return dataDir.resolve("artifacts");
  }
}
