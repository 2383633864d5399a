package dev.paddock.policy;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a sandboxed process may see and do. Immutable; made only by {@link PolicyBuilder}, whose
 * {@code build()} checks everything at once, so no unchecked policy exists.
 *
 * <p>Everything not granted here is absent: there is no network (a private network namespace with
 * only a loopback interface), no host path beyond {@link #mounts()}, a private {@code /tmp} of
 * {@link Limits#tmpfsBytes()} and the session workspace, which the launcher adds itself.
 */
public final class SandboxPolicy {
  private final List<Mount> mounts;
  private final List<SeccompRule> seccomp;
  private final Limits limits;
  private final Set<IpcOperation> ipc;
  private final boolean secretsInJail;

  SandboxPolicy(List<Mount> mounts, List<SeccompRule> seccomp, Limits limits, Set<IpcOperation> ipc,
      boolean secretsInJail) {
    this.secretsInJail = secretsInJail;
    this.mounts = List.copyOf(mounts);
    this.seccomp = List.copyOf(seccomp);
    this.limits = Objects.requireNonNull(limits, "limits");
    this.ipc = ipc.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(ipc));
  }

  /** Host paths made visible, in mount order. */
  public List<Mount> mounts() {
    return mounts;
  }

  /** Syscall rules; every syscall not named is allowed. */
  public List<SeccompRule> seccomp() {
    return seccomp;
  }

  /** Resource limits. */
  public Limits limits() {
    return limits;
  }

  /** What the sandbox may ask the host for over its IPC channel. */
  public Set<IpcOperation> ipcOperations() {
    return ipc;
  }

  /** Whether an exec may have the tenant's secrets as environment variables in the jail. */
  public boolean secretsInJail() {
    return secretsInJail;
  }

  /**
   * The same policy with other limits.
   *
   * @throws IllegalArgumentException listing every problem when {@code newLimits} are invalid
   */
  public SandboxPolicy withLimits(Limits newLimits) {
    List<String> problems = newLimits.problems();
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid limits: " + String.join("; ", problems));
    }
    return new SandboxPolicy(mounts, seccomp, newLimits, ipc, secretsInJail);
  }

  /**
   * Every part of the policy, one line each, in a fixed order: mounts (in mount order), seccomp
   * rules, limits, IPC operations (sorted), whether secrets may enter the jail. What a policy's version is a digest of: two policies
   * differing in anything differ here.
   */
  public String canonicalText() {
    StringBuilder out = new StringBuilder();
    mounts.forEach(m -> out.append("mount ").append(m).append('\n'));
    seccomp.forEach(r -> out.append("seccomp ").append(r).append('\n'));
    out.append("limits ").append(limits).append('\n');
    ipc.stream().map(Enum::name).sorted().forEach(op -> out.append("ipc ").append(op).append('\n'));
    out.append("secrets-in-jail ").append(secretsInJail).append('\n');
    return out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SandboxPolicy p && mounts.equals(p.mounts) && seccomp.equals(p.seccomp) && limits.equals(p.limits)
        && ipc.equals(p.ipc) && secretsInJail == p.secretsInJail;
  }

  @Override
  public int hashCode() {
    return Objects.hash(mounts, seccomp, limits, ipc, secretsInJail);
  }

  @Override
  public String toString() {
    return "SandboxPolicy[" + mounts.size() + " mounts, " + seccomp.size() + " seccomp rules, " + limits + "]";
  }
}
