package dev.paddock.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Builds a {@link SandboxPolicy} fluently. Calls are recorded in order; {@link #build()} checks
 * them all and reports every problem at once in one {@link PolicyException}.
 *
 * <pre>{@code
 * SandboxPolicy policy = PolicyBuilder.create()
 *     .mountReadOnly(Path.of("/usr"))
 *     .killOn(Syscall.PTRACE, Syscall.MOUNT)
 *     .failWithErrno(Syscall.CLONE3, 38)
 *     .limits(l -> l.memory(256 * Limits.MIB).wallTime(Duration.ofSeconds(30)))
 *     .build();
 * }</pre>
 */
public final class PolicyBuilder {
  private static final Path WORKSPACE = Path.of("/workspace");
  private static final Path TMP = Path.of("/tmp");

  private final Map<Path, Mount> mounts = new LinkedHashMap<>();
  private final Map<Syscall, SeccompAction> seccomp = new EnumMap<>(Syscall.class);
  private final List<String> problems = new ArrayList<>();
  private Limits.Builder limits = Limits.builder();
  private final Set<IpcOperation> ipc = EnumSet.noneOf(IpcOperation.class);
  private boolean secretsInJail;

  private PolicyBuilder() {}

  /** An empty builder: no mounts, no seccomp rules, default limits. */
  public static PolicyBuilder create() {
    return new PolicyBuilder();
  }

  /** Makes {@code path} visible read-only at the same place inside the sandbox. */
  public PolicyBuilder mountReadOnly(Path path) {
    return mount(new Mount(path, path, false, false));
  }

  /** Like {@link #mountReadOnly(Path)}, but skipped when the host lacks the path. */
  public PolicyBuilder mountReadOnlyIfExists(Path path) {
    return mount(new Mount(path, path, false, true));
  }

  private PolicyBuilder mount(Mount mount) {
    Path inside = mount.sandboxPath().normalize();
    if (!mount.hostPath().isAbsolute() || !inside.isAbsolute()) {
      problems.add("mount paths must be absolute: " + mount.hostPath() + " -> " + inside);
    } else if (inside.equals(Path.of("/")) || inside.startsWith(WORKSPACE) || inside.startsWith(TMP)) {
      problems.add("cannot mount over " + inside + ": the launcher owns it");
    } else if (mounts.containsKey(inside)) {
      problems.add("mounted twice: " + inside);
    }
    mounts.put(inside, mount);
    return this;
  }

  /** Kills the process when it makes any of these syscalls (reported as a violation). */
  public PolicyBuilder killOn(Syscall... syscalls) {
    for (Syscall s : syscalls) {
      rule(s, SeccompAction.KILL);
    }
    return this;
  }

  /** Makes these syscalls fail with {@code errno} instead of running. */
  public PolicyBuilder failWithErrno(Syscall syscall, int errno) {
    if (errno < 1 || errno > 4095) {
      problems.add("errno for " + syscall.kernelName() + " must be in 1..4095, got " + errno);
      return this;
    }
    return rule(syscall, new SeccompAction.Errno(errno));
  }

  private PolicyBuilder rule(Syscall syscall, SeccompAction action) {
    SeccompAction before = seccomp.put(syscall, action);
    if (before != null && !before.equals(action)) {
      problems.add("conflicting seccomp rules for " + syscall.kernelName());
    }
    return this;
  }

  /** Grants code in the sandbox these IPC operations (none by default). */
  public PolicyBuilder allowIpc(IpcOperation... operations) {
    ipc.addAll(List.of(operations));
    return this;
  }

  /** Adjusts the limits, starting from the current ones. */
  public PolicyBuilder limits(Consumer<Limits.Builder> change) {
    change.accept(limits);
    return this;
  }

  /** Replaces the limits. */
  public PolicyBuilder limits(Limits newLimits) {
    this.limits = newLimits.toBuilder();
    return this;
  }

  /**
   * Lets an exec ask for the tenant's secrets as environment variables in the jail (where a tool
   * truly needs the value itself). Off unless set.
   */
  public PolicyBuilder allowSecretsInJail() {
    secretsInJail = true;
    return this;
  }

  /** The policy, or every problem found in it. */
  public SandboxPolicy build() throws PolicyException {
    Limits built = limits.build();
    List<String> all = new ArrayList<>(problems);
    all.addAll(built.problems());
    if (!all.isEmpty()) {
      throw new PolicyException(all);
    }
    List<SeccompRule> rules = new ArrayList<>();
    seccomp.forEach((s, a) -> rules.add(new SeccompRule(s, a)));
    return new SandboxPolicy(new ArrayList<>(mounts.values()), rules, built, ipc, secretsInJail);
  }
}
