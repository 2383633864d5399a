package dev.paddock.sandbox;

import dev.paddock.policy.SandboxPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One command to run in a fresh jail.
 *
 * @param argv       the command; argv[0] without a '/' is looked up on the jail's PATH
 * @param env        environment variables on top of the jail's defaults (PATH, HOME, TMPDIR, LANG)
 * @param cwd        working directory relative to the workspace; "" for the workspace itself
 * @param stdin      bytes written to the process's standard input, which is then closed
 * @param workspace  host directory mounted read-write at {@code /workspace}
 * @param policy     mounts, seccomp rules and limits
 * @param cgroupParent the cgroup the exec's own cgroup is made under, relative to the host's cgroup
 *     root, e.g. {@code paddock/t-demo/ses_...}: a session's execs share a parent
 */
public record SandboxRequest(
    List<String> argv,
    Map<String, String> env,
    String cwd,
    byte[] stdin,
    Path workspace,
    SandboxPolicy policy,
    String cgroupParent) {

  public SandboxRequest {
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    Objects.requireNonNull(cwd, "cwd");
    stdin = stdin == null ? new byte[0] : stdin;
    Objects.requireNonNull(workspace, "workspace");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(cgroupParent, "cgroupParent");
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must not be empty");
    }
  }
}
