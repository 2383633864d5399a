package dev.paddock.policy;

import java.util.Objects;

/** One seccomp rule: this syscall gets this action. Made only by {@link PolicyBuilder}. */
public final class SeccompRule {
  private final Syscall syscall;
  private final SeccompAction action;

  SeccompRule(Syscall syscall, SeccompAction action) {
    this.syscall = Objects.requireNonNull(syscall, "syscall");
    this.action = Objects.requireNonNull(action, "action");
  }

  /** The syscall. */
  public Syscall syscall() {
    return syscall;
  }

  /** What happens when it is called. */
  public SeccompAction action() {
    return action;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SeccompRule r && syscall == r.syscall && action.equals(r.action);
  }

  @Override
  public int hashCode() {
    return Objects.hash(syscall, action);
  }

  @Override
  public String toString() {
    return syscall + " -> " + action;
  }
}
