package dev.paddock.runtime.cli;

import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.linux.Sysctl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code paddock doctor}: whether this machine can run a host, check by check, each failure with
 * its fix; ends by starting a real jail as the host would. Exits 1 when the host could not jail.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = {"Checks that this machine can run a Paddock host: Linux, root, cgroups, user namespaces,"
        + " seccomp, nsjail, vsock, the data directory, and a real jail started as the host would. Each problem"
        + " comes with its fix.", "Exit codes: 0 = it can jail, 1 = it cannot (see the failed checks)."})
final class DoctorCommand implements Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = "${env:PADDOCK_DATA_DIR:-.paddock/data}",
      description = "The host's data directory, checked but not changed. Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @picocli.CommandLine.Mixin JailOptions jail = new JailOptions();

  @Option(names = "--json", description = "One JSON object per check on stdout: {check, status, detail, fix}.")
  boolean json;

  /** How a check came out. FAIL means the host cannot jail; WARN that it can, with a caveat. */
  enum Status { OK, WARN, FAIL }

  /** One check's result. */
  record Check(String name, Status status, String detail, String fix) {}

  @Override
  public Integer call() throws Exception {
    Path nsjailBinary = jail.nsjailBinary();
    List<Check> checks = new ArrayList<>();
    checks.add(linux());
    checks.add(root());
    checks.add(cgroups());
    checks.add(userNamespaces());
    checks.add(seccomp());
    checks.add(nsjail(nsjailBinary));
    checks.add(vsock());
    checks.add(dataDir());
    checks.add(jailProbe(nsjailBinary));
    Output out = new Output(System.out, System.err, json);
    if (json) {
      for (Check c : checks) {
        out.json(Output.object().put("check", c.name()).put("status", c.status().name()).put("detail", c.detail())
            .put("fix", c.fix()));
      }
    } else {
      List<List<String>> rows = new ArrayList<>();
      for (Check c : checks) {
        rows.add(List.of(c.name(), c.status().name(), c.detail()));
      }
      out.table(List.of("CHECK", "STATUS", "DETAIL"), rows);
      for (Check c : checks) {
        if (c.status() != Status.OK) {
          out.line("fix " + c.name() + ": " + c.fix());
        }
      }
    }
    boolean canJail = checks.stream().noneMatch(c -> c.status() == Status.FAIL);
    if (!json) {
      out.line(canJail ? "this machine can run a Paddock host" : "this machine cannot run a Paddock host: fix the checks above");
    }
    return canJail ? 0 : 1;
  }

  private static Check linux() {
    String os = System.getProperty("os.name");
    if (!os.equals("Linux")) {
      return new Check("linux", Status.FAIL, os, "run the host on Linux: jails are Linux namespaces, cgroups and seccomp");
    }
    return new Check("linux", Status.OK, "kernel " + Sysctl.read(Path.of("/proc/sys/kernel/osrelease")), "");
  }

  private static Check root() {
    String uid = field(Path.of("/proc/self/status"), "Uid:").split("\\s+")[0];
    return uid.equals("0") ? new Check("root", Status.OK, "uid 0", "")
        : new Check("root", Status.FAIL, "uid " + uid, "run the host as root: it makes cgroups and maps the jails' users");
  }

  private Check cgroups() {
    try {
      String driver = dev.paddock.sandbox.cgroup.CgroupDriver.detect(jail.cgroupRoot).describe();
      return new Check("cgroups", Status.OK, driver, "");
    } catch (dev.paddock.sandbox.cgroup.CgroupException e) {
      return new Check("cgroups", Status.FAIL, e.getMessage(), "mount cgroup v2 (or v1 with memory, pids, cpu and cpuacct) at "
          + jail.cgroupRoot + ", or pass --cgroup-root; run as root");
    }
  }

  private static Check userNamespaces() {
    String max = Sysctl.read(Path.of("/proc/sys/user/max_user_namespaces"));
    if (max.isEmpty() || max.equals("0")) {
      return new Check("user namespaces", Status.FAIL, "user.max_user_namespaces = " + (max.isEmpty() ? "unknown" : max),
          "sysctl -w user.max_user_namespaces=15000 (and make it last in /etc/sysctl.d)");
    }
    return new Check("user namespaces", Status.OK, "user.max_user_namespaces = " + max, "");
  }

  private static Check seccomp() {
    String actions = Sysctl.read(Path.of("/proc/sys/kernel/seccomp/actions_avail"));
    if (!actions.contains("kill_process") || !actions.contains("errno")) {
      return new Check("seccomp", Status.FAIL, actions.isEmpty() ? "no seccomp filter support" : "actions: " + actions,
          "use a kernel built with CONFIG_SECCOMP_FILTER (every distribution kernel is)");
    }
    return new Check("seccomp", Status.OK, "filters, actions: " + actions, "");
  }

  private static Check nsjail(Path binary) {
    if (!Files.isExecutable(binary)) {
      return new Check("nsjail", Status.FAIL, "not found: " + binary, "run scripts/setup, or pass --nsjail PATH");
    }
    try {
      Process p = new ProcessBuilder(binary.toString(), "--help").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Check("nsjail", Status.FAIL, binary + " does not answer --help", "reinstall it (scripts/setup)");
      }
      return new Check("nsjail", Status.OK, binary.toString(), "");
    } catch (IOException | InterruptedException e) {
      return new Check("nsjail", Status.FAIL, binary + ": " + e.getMessage(), "reinstall it (scripts/setup)");
    }
  }

  private static Check vsock() {
    if (Files.exists(Path.of("/dev/vsock"))) {
      return new Check("vsock", Status.OK, "present (a VM): jails cannot open AF_VSOCK sockets, their seccomp policy"
          + " refuses the family", "");
    }
    return new Check("vsock", Status.OK, "not present", "");
  }

  private Check dataDir() {
    Path dir = dataDir.toAbsolutePath();
    if (!Files.exists(dir)) {
      return new Check("data dir", Status.WARN, dir + " does not exist yet", "none needed: paddock serve makes it (mode 0700)");
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
      if (perms.contains(PosixFilePermission.OTHERS_WRITE) || perms.contains(PosixFilePermission.GROUP_WRITE)) {
        return new Check("data dir", Status.FAIL, dir + " is writable by others (" + java.nio.file.attribute.PosixFilePermissions
            .toString(perms) + "): keys' hashes, the vault and the audit log live there", "chmod go-w " + dir);
      }
      Object owner = Files.getAttribute(dir, "unix:uid");
      if (!Integer.valueOf(0).equals(owner)) {
        return new Check("data dir", Status.WARN, dir + " is owned by uid " + owner + ", not root", "chown root: " + dir);
      }
      return new Check("data dir", Status.OK, dir + " (" + java.nio.file.attribute.PosixFilePermissions.toString(perms) + ")", "");
    } catch (IOException | UnsupportedOperationException e) {
      return new Check("data dir", Status.FAIL, dir + ": " + e.getMessage(), "make it readable by root");
    }
  }

  /** A real jail, as the host starts one, on a data directory of its own. */
  private Check jailProbe(Path nsjailBinary) {
    Path probeDir = null;
    try {
      probeDir = Files.createTempDirectory("paddock-doctor-");
      Files.setPosixFilePermissions(probeDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
      HostConfig config = new HostConfig(new InetSocketAddress("127.0.0.1", 0), probeDir, nsjailBinary, jail.sandboxUid,
          jail.sandboxGid, jail.cgroupRoot, SessionSettings.defaults())
          .withPythonProtobuf(Files.isDirectory(jail.pythonProtobuf) ? jail.pythonProtobuf.toAbsolutePath() : null);
      String failure = RuntimeServer.probeJail(config);
      return failure == null ? new Check("jail", Status.OK, "a jail started and ran /bin/true (namespaces, cgroup, seccomp)", "")
          : new Check("jail", Status.FAIL, failure, "fix the checks above; the host's log says more (paddock serve)");
    } catch (IOException | RuntimeException e) {
      return new Check("jail", Status.FAIL, String.valueOf(e.getMessage()), "fix the checks above");
    } finally {
      if (probeDir != null) {
        try (var walk = Files.walk(probeDir)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
          // a temporary directory
        }
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      return "";
    }
  }

  private static String field(Path file, String key) {
    return read(file).lines().filter(l -> l.startsWith(key)).map(l -> l.substring(key.length()).trim()).findFirst().orElse("");
  }
}
