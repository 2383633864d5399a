package dev.paddock.sandbox.nsjail;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where nsjail is and whom it runs as.
 *
 * @param nsjail     the nsjail binary (scripts/setup installs one under .paddock/tools)
 * @param outsideUid host uid the jailed processes run as; never 0. Default 99999.
 * @param outsideGid host gid likewise. Default 99999.
 * @param scratchDir host directory for per-exec jail logs, private to the host (mode 0700)
 * @param workspaceRoot host directory holding session workspaces (mode 0711). nsjail mounts a
 *     workspace from inside the jail's user namespace, so every parent directory of it must be
 *     searchable (o+x) by others; {@link NsjailLauncher#checkAvailable()} checks this.
 */
public record NsjailConfig(Path nsjail, int outsideUid, int outsideGid, Path scratchDir, Path workspaceRoot) {
  /** The uid and gid a jailed process has inside its user namespace. */
  public static final int INSIDE_ID = 1000;

  public NsjailConfig {
    Objects.requireNonNull(nsjail, "nsjail");
    Objects.requireNonNull(scratchDir, "scratchDir");
    Objects.requireNonNull(workspaceRoot, "workspaceRoot");
    if (outsideUid <= 0 || outsideGid <= 0) {
      throw new IllegalArgumentException("jailed processes must not map to host root (uid/gid 0)");
    }
  }
}
