package dev.paddock.runtime.config;

import dev.paddock.runtime.session.SessionSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a host runs.
 *
 * @param listen     TCP address to serve gRPC on. Default 127.0.0.1:50051 (loopback only).
 * @param dataDir    local state: tenants.yaml, session workspaces, jail scratch files. Default ./.paddock/data.
 * @param nsjail     the nsjail binary. Default the one scripts/setup installs.
 * @param sandboxUid host uid jailed processes run as; never 0. Default 99999.
 * @param sandboxGid host gid likewise. Default 99999.
 * @param cgroupRoot where cgroups are mounted. Default /sys/fs/cgroup.
 * @param sessions   session and exec defaults and ceilings
 * @param tls        TLS for the gRPC port, or null for plaintext (fine on loopback only)
 */
public record HostConfig(
    InetSocketAddress listen,
    Path dataDir,
    Path nsjail,
    int sandboxUid,
    int sandboxGid,
    Path cgroupRoot,
    SessionSettings sessions,
    TlsConfig tls) {

  public HostConfig {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(nsjail, "nsjail");
    Objects.requireNonNull(cgroupRoot, "cgroupRoot");
    Objects.requireNonNull(sessions, "sessions");
  }

  /** A plaintext host. */
  public HostConfig(InetSocketAddress listen, Path dataDir, Path nsjail, int sandboxUid, int sandboxGid,
      Path cgroupRoot, SessionSettings sessions) {
    this(listen, dataDir, nsjail, sandboxUid, sandboxGid, cgroupRoot, sessions, null);
  }

  public Path tenantsFile() {
    return dataDir.resolve("tenants.yaml");
  }

  public Path workspaces() {
    return dataDir.resolve("workspaces");
  }

  public Path scratch() {
    return dataDir.resolve("scratch");
  }
}
