package dev.paddock.sandbox.jail;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where the jail's parts are on this host and whom jailed processes run as.
 *
 * @param nsjail     the nsjail binary (scripts/setup installs one under .paddock/tools)
 * @param init       the paddock-init binary built by sandbox-native; nsjail opens it on the host
 *                   and executes the descriptor inside the jail, so it need not be visible there
 * @param scratchDir host directory for each jail's nsjail config and log, private to the host
 *                   (mode 0700); nothing in it is ever visible inside a jail
 * @param outsideUid host uid jailed processes run as; never 0. Default 99999.
 * @param outsideGid host gid likewise. Default 99999.
 * @param sdkMounts  host directories every jail sees read-only beside the policy's mounts (the
 *                   in-jail SDKs under /opt/paddock); a missing one is skipped
 */
public record JailConfig(Path nsjail, Path init, Path scratchDir, int outsideUid, int outsideGid,
    List<SdkMount> sdkMounts) {

  /**
   * A host directory shown read-only inside every jail.
   *
   * @param hostPath  the directory on the host
   * @param jailPath  where it appears inside, absolute (e.g. /opt/paddock/python)
   */
  public record SdkMount(Path hostPath, String jailPath) {
    public SdkMount {
      Objects.requireNonNull(hostPath, "hostPath");
      if (!jailPath.startsWith("/opt/")) {
        throw new IllegalArgumentException("SDK mounts go under /opt, got " + jailPath);
      }
    }
  }

  /** A configuration without SDK mounts. */
  public JailConfig(Path nsjail, Path init, Path scratchDir, int outsideUid, int outsideGid) {
    this(nsjail, init, scratchDir, outsideUid, outsideGid, List.of());
  }
  /** The uid and gid a jailed process has inside its user namespace. */
  public static final int INSIDE_ID = 1000;

  public JailConfig {
    Objects.requireNonNull(nsjail, "nsjail");
    Objects.requireNonNull(init, "init");
    Objects.requireNonNull(scratchDir, "scratchDir");
    if (outsideUid <= 0 || outsideGid <= 0) {
      throw new IllegalArgumentException("jailed processes must not map to host root (uid/gid 0)");
    }
    sdkMounts = List.copyOf(sdkMounts);
  }
}
