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
  private static final int SOCKET_X86_64 = 41;
  private static final int SOCKETPAIR_X86_64 = 53;
  private static final int INOTIFY_INIT_X86_64 = 253;
  private static final int INOTIFY_INIT1_X86_64 = 294;
  /** AF_UNIX, AF_INET, AF_INET6: the only socket families a tool needs. */
  static final int[] ALLOWED_SOCKET_FAMILIES = {1, 2, 10};
  private static final int EAFNOSUPPORT = 97;
  private static final int ENOSYS = 38;

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
    // Socket families beyond AF_UNIX/AF_INET/AF_INET6 reach kernel surfaces a tool never needs
    // (vsock reaches the hypervisor on VM hosts; netlink, packet, ...): they fail as unsupported.
    StringBuilder otherFamily = new StringBuilder();
    for (int family : ALLOWED_SOCKET_FAMILIES) {
      otherFamily.append(otherFamily.length() == 0 ? "" : " && ").append("domain != ").append(family);
    }
    List<String> families = byAction.computeIfAbsent("ERRNO(" + EAFNOSUPPORT + ")", k -> new ArrayList<>());
    families.add("SYSCALL[" + SOCKET_X86_64 + "](domain) { " + otherFamily + " }");
    families.add("SYSCALL[" + SOCKETPAIR_X86_64 + "](domain) { " + otherFamily + " }");
    // inotify instances are counted per user of the namespace that owns them, and every jail's
    // namespace is owned by the host's root: one tenant could use them up for every tenant and
    // the host. They fail as unimplemented; file watchers fall back to polling.
    List<String> inotify = byAction.computeIfAbsent("ERRNO(" + ENOSYS + ")", k -> new ArrayList<>());
    inotify.add("SYSCALL[" + INOTIFY_INIT_X86_64 + "]");
    inotify.add("SYSCALL[" + INOTIFY_INIT1_X86_64 + "]");
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
