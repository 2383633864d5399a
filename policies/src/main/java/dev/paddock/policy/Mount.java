package dev.paddock.policy;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A host path made visible inside the sandbox. Made only by {@link PolicyBuilder}, so every mount
 * in a policy went through its checks (and a writable one through a named {@code Capability}).
 */
public final class Mount {
  private final Path hostPath;
  private final Path sandboxPath;
  private final boolean writable;
  private final boolean optional;

  Mount(Path hostPath, Path sandboxPath, boolean writable, boolean optional) {
    this.hostPath = Objects.requireNonNull(hostPath, "hostPath");
    this.sandboxPath = Objects.requireNonNull(sandboxPath, "sandboxPath");
    this.writable = writable;
    this.optional = optional;
  }

  /** Absolute path on the host. */
  public Path hostPath() {
    return hostPath;
  }

  /** Absolute path inside the sandbox. */
  public Path sandboxPath() {
    return sandboxPath;
  }

  /** False for a read-only bind mount (the default for system paths). */
  public boolean writable() {
    return writable;
  }

  /** True when a missing host path is skipped instead of failing the setup. */
  public boolean optional() {
    return optional;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Mount m && hostPath.equals(m.hostPath) && sandboxPath.equals(m.sandboxPath)
        && writable == m.writable && optional == m.optional;
  }

  @Override
  public int hashCode() {
    return Objects.hash(hostPath, sandboxPath, writable, optional);
  }

  @Override
  public String toString() {
    return "Mount[" + hostPath + (hostPath.equals(sandboxPath) ? "" : " -> " + sandboxPath)
        + (writable ? ", rw" : ", ro") + (optional ? ", optional" : "") + "]";
  }
}
