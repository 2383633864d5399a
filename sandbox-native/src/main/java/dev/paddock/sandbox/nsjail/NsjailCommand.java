package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.KafelPolicy;
import dev.paddock.policy.Limits;
import dev.paddock.policy.Mount;
import dev.paddock.sandbox.SandboxRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates a {@link SandboxRequest} into nsjail's command line.
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

  /** nsjail's argv for {@code request}; {@code argv} is the request's, already resolved. */
  static List<String> build(NsjailConfig config, SandboxRequest request, List<String> argv, Path logFile, Path envFile) {
    Limits limits = request.policy().limits();
    List<String> args = new ArrayList<>();
    args.add(config.nsjail().toString());
    // First, since nsjail applies a --config file over the flags parsed before it.
    // The environment goes in a config file private to the host: values (which may be secrets)
    // never appear in a command line that `ps` shows every local user, and never in the
    // environment of the host-side processes (a tenant's LD_PRELOAD must not reach nsjail).
    args.add("--config=" + envFile);
    args.add("--mode=o");
    args.add("--log=" + logFile);
    args.add("--hostname=paddock");
    args.add("--user=" + NsjailConfig.INSIDE_ID + ":" + config.outsideUid() + ":1");
    args.add("--group=" + NsjailConfig.INSIDE_ID + ":" + config.outsideGid() + ":1");
    long backstop = (limits.wallTime().toMillis() + 999) / 1000 + BACKSTOP_SECONDS;
    args.add("--time_limit=" + backstop);
    args.add("--rlimit_as=hard");
    args.add("--rlimit_cpu=hard");
    args.add("--rlimit_nproc=hard");
    args.add("--rlimit_fsize=" + Math.max(1, (limits.maxFileBytes() + Limits.MIB - 1) / Limits.MIB));
    args.add("--rlimit_nofile=" + limits.maxOpenFiles());
    for (Mount m : request.policy().mounts()) {
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
    args.add("--bindmount=" + request.workspace() + ":" + WORKSPACE);
    args.add("--cwd=" + (request.cwd().isEmpty() ? WORKSPACE : WORKSPACE + "/" + request.cwd()));
    args.add("--seccomp_string=" + KafelPolicy.compile(request.policy().seccomp()));
    args.add("--");
    args.addAll(argv);
    return args;
  }

  /**
   * Writes the jail's environment as an nsjail text-format config ({@code envar} entries), mode 0600.
   * It also sets {@code mount_proc}: flags default /proc to mounted, a config file to not.
   */
  static void writeEnvFile(SandboxRequest request, Path envFile) throws java.io.IOException {
    StringBuilder text = new StringBuilder("mount_proc: true\n");
    for (Map.Entry<String, String> e : environment(request).entrySet()) {
      text.append("envar: \"").append(textProtoEscape(e.getKey() + "=" + e.getValue())).append("\"\n");
    }
    Files.writeString(envFile, text, java.nio.charset.StandardCharsets.US_ASCII,
        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
    Files.setPosixFilePermissions(envFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
  }

  /** Protobuf text-format string escaping: printable ASCII as is, the rest as octal bytes. */
  static String textProtoEscape(String value) {
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
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
  static java.util.Optional<List<String>> resolveArgv(List<String> argv) {
    String program = argv.get(0);
    if (program.contains("/")) {
      return java.util.Optional.of(argv);
    }
    for (String dir : PATH_DIRS) {
      Path candidate = Path.of(dir, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        List<String> resolved = new ArrayList<>(argv);
        resolved.set(0, candidate.toString());
        return java.util.Optional.of(resolved);
      }
    }
    return java.util.Optional.empty();
  }
}
