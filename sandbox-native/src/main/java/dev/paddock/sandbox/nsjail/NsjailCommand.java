package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.KafelPolicy;
import dev.paddock.policy.Limits;
import dev.paddock.policy.Mount;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.SandboxRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Translates a request into nsjail's input, in two parts:
 *
 * <ul>
 *   <li>{@link #flags}: the command-line flags, fixed for a session (policy, workspace, uid
 *       mapping, log file). A jail can be started up to the point of waiting for its exec before
 *       the exec is known.
 *   <li>{@link #writeExecConfig}: everything of one exec (program and arguments, environment,
 *       working directory, nsjail's backstop timer) in a text-format nsjail config file, private to
 *       the host. Values (which may be secrets) never appear in a command line that {@code ps}
 *       shows every local user, nor in the environment of host-side processes (a tenant's
 *       LD_PRELOAD must not reach nsjail, which runs as root).
 * </ul>
 *
 * <p>All namespaces (user, pid, mount, network, ipc, uts, cgroup) are nsjail's defaults and stay on.
 * nsjail's own timer is only a backstop: the host enforces the wall time with millisecond
 * resolution. rlimits that nsjail would otherwise default (1 MiB file size, 32 open files) are set
 * from the policy; memory, processes and CPU are held by the host's cgroup, not by rlimits, since
 * RLIMIT_NPROC counts per host uid across all sandboxes and RLIMIT_AS breaks runtimes like V8.
 */
final class NsjailCommand {
  static final String WORKSPACE = "/workspace";
  static final List<String> PATH_DIRS = List.of("/usr/local/bin", "/usr/bin", "/bin");
  /** Device nodes every program expects; bind-mounted read-only (writing a device node still works). */
  private static final List<String> DEVICES = List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom");
  private static final int BACKSTOP_SECONDS = 5;

  private NsjailCommand() {}

  /** nsjail's flags for jails of {@code policy} over {@code workspace}; the exec comes in {@code execConfig}. */
  static List<String> flags(NsjailConfig config, SandboxPolicy policy, Path workspace, Path logFile, Path execConfig) {
    Limits limits = policy.limits();
    List<String> args = new ArrayList<>();
    args.add(config.nsjail().toString());
    // First: nsjail applies a --config file over the flags parsed before it.
    args.add("--config=" + execConfig);
    args.add("--mode=o");
    args.add("--log=" + logFile);
    args.add("--hostname=paddock");
    args.add("--user=" + NsjailConfig.INSIDE_ID + ":" + config.outsideUid() + ":1");
    args.add("--group=" + NsjailConfig.INSIDE_ID + ":" + config.outsideGid() + ":1");
    args.add("--rlimit_as=hard");
    args.add("--rlimit_cpu=hard");
    args.add("--rlimit_nproc=hard");
    args.add("--rlimit_fsize=" + Math.max(1, (limits.maxFileBytes() + Limits.MIB - 1) / Limits.MIB));
    args.add("--rlimit_nofile=" + limits.maxOpenFiles());
    for (Mount m : policy.mounts()) {
      if (m.optional() && !Files.exists(m.hostPath())) {
        continue;
      }
      String spec = m.hostPath() + (m.hostPath().equals(m.sandboxPath()) ? "" : ":" + m.sandboxPath());
      args.add((m.writable() ? "--bindmount=" : "--bindmount_ro=") + spec);
    }
    for (String device : DEVICES) {
      args.add("--bindmount_ro=" + device);
    }
    args.add("--symlink=/proc/self/fd:/dev/fd");
    args.add("--symlink=/proc/self/fd/0:/dev/stdin");
    args.add("--symlink=/proc/self/fd/1:/dev/stdout");
    args.add("--symlink=/proc/self/fd/2:/dev/stderr");
    args.add("--mount=none:/tmp:tmpfs:size=" + limits.tmpfsBytes() + ",mode=1777");
    args.add("--bindmount=" + workspace + ":" + WORKSPACE);
    args.add("--seccomp_string=" + KafelPolicy.compile(policy.seccomp()));
    return args;
  }

  /**
   * Writes one exec's nsjail config (text format, mode 0600, a new file): program and arguments
   * ({@code exec_bin}; {@code argv} already resolved), environment, working directory, the
   * backstop timer, and {@code mount_proc} (flags default /proc to mounted, a config file to not).
   */
  static void writeExecConfig(SandboxRequest request, List<String> argv, Path file) throws IOException {
    StringBuilder text = new StringBuilder("mount_proc: true\n");
    long backstop = (request.policy().limits().wallTime().toMillis() + 999) / 1000 + BACKSTOP_SECONDS;
    text.append("time_limit: ").append(backstop).append('\n');
    text.append("cwd: \"").append(escape(request.cwd().isEmpty() ? WORKSPACE : WORKSPACE + "/" + request.cwd())).append("\"\n");
    for (Map.Entry<String, String> e : environment(request).entrySet()) {
      text.append("envar: \"").append(escape(e.getKey() + "=" + e.getValue())).append("\"\n");
    }
    text.append("exec_bin {\n  path: \"").append(escape(argv.get(0))).append("\"\n");
    for (String arg : argv.subList(1, argv.size())) {
      text.append("  arg: \"").append(escape(arg)).append("\"\n");
    }
    text.append("}\n");
    Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  /** Protobuf text-format string escaping: printable ASCII as is, the rest as octal bytes. */
  static String escape(String value) {
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c == '"' || c == '\\') {
        out.append('\\').append((char) c);
      } else if (c >= 0x20 && c < 0x7f) {
        out.append((char) c);
      } else {
        out.append(String.format("\\%03o", c));
      }
    }
    return out.toString();
  }

  /** The jail's default environment with the request's variables on top. */
  static Map<String, String> environment(SandboxRequest request) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", String.join(":", PATH_DIRS));
    env.put("HOME", WORKSPACE);
    env.put("TMPDIR", "/tmp");
    env.put("LANG", "C.UTF-8");
    env.putAll(request.env());
    return env;
  }

  /**
   * nsjail execs argv[0] as given, without a PATH search. The PATH directories are the host's own
   * system directories, mounted read-only at the same place, so a bare name is resolved here.
   *
   * @return argv with argv[0] made absolute, or empty when a bare name is on none of the PATH dirs
   */
  static Optional<List<String>> resolveArgv(List<String> argv) {
    String program = argv.get(0);
    if (program.contains("/")) {
      return Optional.of(argv);
    }
    for (String dir : PATH_DIRS) {
      Path candidate = Path.of(dir, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        List<String> resolved = new ArrayList<>(argv);
        resolved.set(0, candidate.toString());
        return Optional.of(resolved);
      }
    }
    return Optional.empty();
  }
}
