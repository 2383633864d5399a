package dev.paddock.sandbox.jail;

import java.nio.file.Path;
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
 */
public record JailConfig(Path nsjail, Path init, Path scratchDir, int outsideUid, int outsideGid) {
  /** The uid and gid a jailed process has inside its user namespace. */
  public static final int INSIDE_ID = 1000;

  public JailConfig {
    Objects.requireNonNull(nsjail, "nsjail");
    Objects.requireNonNull(init, "init");
    Objects.requireNonNull(scratchDir, "scratchDir");
    if (outsideUid <= 0 || outsideGid <= 0) {
      throw new IllegalArgumentException("jailed processes must not map to host root (uid/gid 0)");
    }
  }
}
