package dev.paddock.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles seccomp rules to Kafel, the policy language nsjail reads ({@code --seccomp_string}).
 *
 * <p>Syscalls are written by number ({@code SYSCALL[n]}) so that newer syscalls compile even where
 * the Kafel build inside nsjail predates their names. The filter also kills {@code clone}
 * when it asks for a new namespace, since unshare(2) alone would leave that door open.
 */
public final class KafelPolicy {
  /** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
  static final long CLONE_NAMESPACE_FLAGS = 0x7E020000L;
  private static final int CLONE_X86_64 = 56;

  private KafelPolicy() {}

  /** The Kafel text of {@code rules}; everything not named is allowed. */
  public static String compile(List<SeccompRule> rules) {
    Map<String, List<String>> byAction = new LinkedHashMap<>();
    for (SeccompRule rule : rules) {
      byAction.computeIfAbsent(kafelAction(rule.action()), k -> new ArrayList<>())
          .add("SYSCALL[" + rule.syscall().x8664Number() + "]");
    }
    byAction.computeIfAbsent("KILL_PROCESS", k -> new ArrayList<>())
        .add("SYSCALL[" + CLONE_X86_64 + "](flags) { (flags & " + hex(CLONE_NAMESPACE_FLAGS) + ") != 0 }");
    StringBuilder out = new StringBuilder("POLICY paddock {\n");
    List<String> blocks = new ArrayList<>();
    byAction.forEach(
        (action, syscalls) -> blocks.add("  " + action + " {\n    " + String.join(",\n    ", syscalls) + "\n  }"));
    out.append(String.join(",\n", blocks)).append("\n}\nUSE paddock DEFAULT ALLOW\n");
    return out.toString();
  }

  private static String kafelAction(SeccompAction action) {
    if (action instanceof SeccompAction.Errno errno) {
      return "ERRNO(" + errno.errno() + ")";
    }
    return "KILL_PROCESS";
  }

  private static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }
}
