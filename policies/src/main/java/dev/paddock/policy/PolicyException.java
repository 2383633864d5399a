package dev.paddock.policy;

import java.util.List;

/** A policy that cannot be built; carries every problem found, not just the first. */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  public PolicyException(List<String> problems) {
    super("invalid sandbox policy: " + String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem, in the order it was found. */
  public List<String> problems() {
    return problems;
  }
}
