package dev.paddock.policy;

import java.util.List;
import java.util.Objects;

/**
 * What a sandboxed process may see and do. Immutable; build with {@link PolicyBuilder}.
 *
 * <p>Everything not granted here is absent: there is no network (a private network namespace with
 * only a loopback interface), no host path beyond {@link #mounts()}, a private {@code /tmp} of
 * {@link Limits#tmpfsBytes()} and the session workspace, which the launcher adds itself.
 *
 * @param mounts   host paths made visible, in mount order
 * @param seccomp  syscall rules; every syscall not named is allowed
 * @param limits   resource limits
 */
public record SandboxPolicy(List<Mount> mounts, List<SeccompRule> seccomp, Limits limits) {
  public SandboxPolicy {
    mounts = List.copyOf(mounts);
    seccomp = List.copyOf(seccomp);
    Objects.requireNonNull(limits, "limits");
  }

  /** The same policy with other limits; the caller validates them (see {@link Limits#problems()}). */
  public SandboxPolicy withLimits(Limits newLimits) {
    return new SandboxPolicy(mounts, seccomp, newLimits);
  }
}
