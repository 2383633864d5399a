package dev.paddock.policy;

import java.util.Objects;

/** One seccomp rule: this syscall gets this action. */
public record SeccompRule(Syscall syscall, SeccompAction action) {
  public SeccompRule {
    Objects.requireNonNull(syscall, "syscall");
    Objects.requireNonNull(action, "action");
  }
}
