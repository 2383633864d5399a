package dev.paddock.sandbox.jail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.SandboxResult.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each containment promise, asserted from inside a real nsjail jail. */
class JailContainmentTest {
  @TempDir static Path temp;
  static TestJail jail;

  @BeforeAll
  static void setUp() throws Exception {
    jail = new TestJail(temp);
  }

  @AfterAll
  static void tearDown() {
    if (jail != null) {
      jail.close();
    }
  }

  @Test
  void runsAndReportsExitCodeAndStreamsApart() throws Exception {
    TestJail.Run run = jail.run(List.of("sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 7"));
    assertThat(run.result().status()).isEqualTo(Status.OK);
    assertThat(run.result().exitCode()).isEqualTo(7);
    assertThat(run.stdout()).isEqualTo("out1\nout2\n");
    assertThat(run.stderr()).isEqualTo("err1\n");
  }

  @Test
  void anIpcExecGetsItsSocketAsFd3AndNothingElse() throws Exception {
    ExecCommand command = TestJail.command(List.of("python3", "-c",
            "import os, socket\n"
                + "s = socket.socket(fileno=3)\n"
                + "print(s.family.name, s.type.name)\n"
                + "s.sendall(b'ping')\n"
                + "print(s.recv(4).decode())\n"
                + "print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"),
        dev.paddock.policy.Limits.DEFAULTS, java.util.Map.of(), Duration.ZERO);
    ExecCommand withIpc = new ExecCommand(command.argv(), command.env(), command.cwd(), command.wallTime(),
        command.cpuTime(), command.maxFileBytes(), command.maxOpenFiles(), true);
    JailExec exec = jail.shared().spawn(withIpc);
    var host = exec.ipc().orElseThrow();
    byte[] buf = new byte[4];
    int n = 0;
    while (n < 4) {
      n += jail.linux.read(host, buf, n, 4 - n);
    }
    assertThat(new String(buf, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ping");
    jail.linux.write(host, "pong".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 4);
    TestJail.Run run = jail.finish(exec);
    host.close();
    assertThat(run.result().status()).as(run.stderr()).isEqualTo(Status.OK);
    // fd 3 is a stream socket; the listing's extra descriptor is listdir's own.
    assertThat(run.stdout()).isEqualTo("AF_UNIX SOCK_STREAM\npong\n[0, 1, 2, 3, 4]\n");
    assertThat(jail.run(List.of("sh", "-c", "test -e /proc/self/fd/3 && echo open || echo closed")).stdout())
        .isEqualTo("closed\n");
  }

  @Test
  void unknownProgramOrCwdIsASetupErrorAndNothingRuns() throws Exception {
    assertThat(jail.run(List.of("no-such-command-here")).result().status()).isEqualTo(Status.SETUP_ERROR);
    TestJail.Run missingPath = jail.run(List.of("/workspace/nope.sh"));
    assertThat(missingPath.result().status()).isEqualTo(Status.SETUP_ERROR);
    assertThat(missingPath.result().reason()).contains("not found").doesNotContain("/work/");
  }

  @Test
  void noNetworkNotEvenToTheHostsLoopback() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      TestJail.Run run = jail.python(
          "import socket\n"
              + "try:\n"
              + "  socket.create_connection(('127.0.0.1', " + server.getLocalPort() + "), timeout=2); print('CONNECTED')\n"
              + "except OSError as e: print('refused', e.errno)\n"
              + "import os; print(sorted(os.listdir('/sys/class/net')) if os.path.exists('/sys/class/net') else 'no-sysfs')");
      assertThat(run.result().status()).isEqualTo(Status.OK);
      assertThat(run.stdout()).startsWith("refused").doesNotContain("CONNECTED");
    }
  }

  @Test
  void hostFilesOutsideTheMountsAreAbsent() throws Exception {
    Path project = JailRequirement.projectRoot();
    Files.writeString(temp.resolve("host-secret.txt"), "secret");
    TestJail.Run run = jail.python(
        "import os\n"
            + "for p in ['/root', '/home', '/etc/shadow', '/etc/passwd', '/var', '/sys', '/run',\n"
            + "          '" + project + "', '" + temp.resolve("host-secret.txt") + "', '/work']:\n"
            + "  print(p, os.path.exists(p))\n"
            + "print(sorted(os.listdir('/')))");
    assertThat(run.result().exitCode()).isEqualTo(0);
    for (String line : run.stdout().split("\n")) {
      if (!line.startsWith("[")) {
        assertThat(line).as("visible inside the jail: %s", line).endsWith(" False");
      }
    }
    assertThat(run.stdout()).contains("'workspace'").contains("'usr'").contains("'tmp'");
  }

  @Test
  void notRootOnTheHostAndNoCapabilities() throws Exception {
    TestJail.Run run = jail.run(List.of("sh", "-c",
        "id -u; cat /proc/self/uid_map; cat /proc/self/gid_map; grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status"));
    String[] lines = run.stdout().trim().split("\n");
    assertThat(lines[0]).isEqualTo("1000");
    // uid_map: inside outside count. The host uid must be unprivileged, never 0.
    assertThat(lines[1].trim().split("\\s+")).containsExactly("1000", String.valueOf(TestJail.OUTSIDE_UID), "1");
    assertThat(lines[2].trim().split("\\s+")).containsExactly("1000", String.valueOf(TestJail.OUTSIDE_UID), "1");
    for (int i = 3; i < lines.length; i++) {
      assertThat(lines[i]).endsWith("0000000000000000");
    }
  }

  @Test
  void hostSysctlsAndSystemDirectoriesAreReadOnly() throws Exception {
    TestJail.Run run = jail.run(List.of("sh", "-c",
        "echo x > /proc/sys/kernel/hostname && echo WROTE-SYSCTL;"
            + " echo 3 > /proc/sys/vm/drop_caches && echo WROTE-DROP;"
            + " echo x > /usr/paddock-test && echo WROTE-USR;"
            + " touch /bin/paddock-test && echo WROTE-BIN;"
            + " echo ok > /workspace/w && cat /workspace/w; echo ok > /tmp/t && cat /tmp/t"));
    assertThat(run.stdout()).doesNotContain("WROTE").isEqualTo("ok\nok\n");
    assertThat(run.stderr()).contains("Read-only file system");
    assertThat(Path.of("/usr/paddock-test")).doesNotExist();
  }

  @Test
  void ptraceIsAViolationNamingTheSyscall() throws Exception {
    TestJail.Run run = jail.python("import ctypes; print('before', flush=True); ctypes.CDLL(None).ptrace(0, 0, 0, 0); print('after')");
    assertThat(run.result().status()).isEqualTo(Status.VIOLATION);
    assertThat(run.result().violationSyscall()).isEqualTo("ptrace");
    assertThat(run.stdout()).isEqualTo("before\n");
  }

  @Test
  void unshareIsAViolationToo() throws Exception {
    TestJail.Run run = jail.python("import ctypes; ctypes.CDLL(None).unshare(0x10000000)");
    assertThat(run.result().status()).isEqualTo(Status.VIOLATION);
    assertThat(run.result().violationSyscall()).isEqualTo("unshare");
  }

  @Test
  void timeoutKillsTheWholeTreeWithinASecondOfTheLimit() throws Exception {
    String marker = "1000" + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    TestJail.Run run = jail.run(
        List.of("sh", "-c", "sleep " + marker + " & sleep " + marker + " & (sleep " + marker + " &) ; wait"),
        l -> l.wallTime(Duration.ofMillis(1500)));
    assertThat(run.result().status()).isEqualTo(Status.TIMEOUT);
    assertThat(run.result().usage().wallTime()).isBetween(Duration.ofMillis(1500), Duration.ofMillis(2500));
    assertThat(processesWithArgument(marker)).as("processes of the tree still alive").isEmpty();
  }

  @Test
  void memoryHogIsOom() throws Exception {
    TestJail.Run run = jail.run(
        List.of("python3", "-c", "b = []\nwhile True: b.append(bytearray(16 * 1024 * 1024))"),
        l -> l.memory(64 * 1024 * 1024));
    assertThat(run.result().status()).isEqualTo(Status.OOM);
  }

  @Test
  void forkBombIsHeldByThePidsLimit() throws Exception {
    TestJail.Run run = jail.run(
        List.of("python3", "-c",
            "import os, sys\n"
                + "n = 0\n"
                + "try:\n"
                + "  while True:\n"
                + "    if os.fork() == 0:\n"
                // the children let go of the output pipes, or reading the output waits for them
                + "      os.closerange(0, 3); import time; time.sleep(30); os._exit(0)\n"
                + "    n += 1\n"
                + "except OSError as e:\n"
                + "  print('fork failed after', n, e.errno); sys.exit(3)"),
        l -> l.processes(16).wallTime(Duration.ofSeconds(20)));
    assertThat(run.result().status()).isEqualTo(Status.PIDS_EXHAUSTED);
    assertThat(run.result().exitCode()).isEqualTo(3);
    assertThat(run.stdout()).startsWith("fork failed after");
    int forked = Integer.parseInt(run.stdout().split(" ")[3]);
    assertThat(forked).isLessThanOrEqualTo(16);
  }

  @Test
  void stdinIsDeliveredThenClosed() throws Exception {
    TestJail.Run run = jail.run(List.of("sh", "-c", "cat; echo EOF"), l -> l, "hello\nworld");
    assertThat(run.stdout()).isEqualTo("hello\nworldEOF\n");
  }

  @Test
  void environmentValuesNeverAppearOnAHostCommandLine() throws Exception {
    String secret = "s3cr3t-" + ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41);
    java.util.concurrent.CompletableFuture<TestJail.Run> run = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return jail.run(List.of("sh", "-c", "echo $TOKEN; sleep 1"), l -> l, "", java.util.Map.of("TOKEN", secret));
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    Thread.sleep(500);
    assertThat(processesWithArgument(secret)).as("processes showing the value in their command line").isEmpty();
    assertThat(run.get().stdout()).isEqualTo(secret + "\n");
  }

  @Test
  void onlyUnixAndInternetSocketsAndNoInotify() throws Exception {
    TestJail.Run run = jail.python(
        "import socket, ctypes, os\n"
            + "for fam in (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, 40, socket.AF_NETLINK, socket.AF_PACKET):\n"
            + "  try: socket.socket(fam, socket.SOCK_DGRAM).close(); print(fam, 'ok')\n"
            + "  except OSError as e: print(fam, 'errno', e.errno)\n"
            + "libc = ctypes.CDLL(None, use_errno=True)\n"
            + "print('inotify', libc.inotify_init1(0), ctypes.get_errno())");
    // 1 AF_UNIX, 2 AF_INET, 10 AF_INET6 work; 40 AF_VSOCK, 16 AF_NETLINK, 17 AF_PACKET: EAFNOSUPPORT
    assertThat(run.stdout()).isEqualTo("1 ok\n2 ok\n10 ok\n40 errno 97\n16 errno 97\n17 errno 97\ninotify -1 38\n");
  }

  @Test
  void tenantProcessesAreTheOomKillersFirstChoiceNeverTheSupervisor() throws Exception {
    // The host raises the score when init reports the start (best effort: a child forked in the
    // first microseconds keeps the default), hence the pause.
    TestJail.Run run = jail.run(List.of("sh", "-c", "sleep 0.2; cat /proc/self/oom_score_adj /proc/1/oom_score_adj"));
    assertThat(run.stdout()).isEqualTo("1000\n0\n");
  }

  @Test
  void noneOfTheHostsUnixSocketsAreReachable() throws Exception {
    String name = "paddock-test-" + ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41);
    Path hostSocket = temp.resolve(name + ".sock");
    // A host process listening on an abstract socket (per network namespace) and a path socket.
    Process listener = new ProcessBuilder("python3", "-c",
        "import socket, time\n"
            + "a = socket.socket(socket.AF_UNIX); a.bind('\\0" + name + "'); a.listen()\n"
            + "p = socket.socket(socket.AF_UNIX); p.bind('" + hostSocket + "'); p.listen()\n"
            + "print('listening', flush=True); time.sleep(30)").start();
    try {
      assertThat(new String(listener.getInputStream().readNBytes(10))).isEqualTo("listening\n".substring(0, 10));
      TestJail.Run run = jail.python(
          "import socket\n"
              + "for addr in ['\\0" + name + "', '" + hostSocket + "']:\n"
              + "  s = socket.socket(socket.AF_UNIX)\n"
              + "  try: s.connect(addr); print('CONNECTED')\n"
              + "  except OSError as e: print('refused', e.errno)\n");
      assertThat(run.stdout()).doesNotContain("CONNECTED").contains("refused");
      assertThat(run.stdout().lines().count()).isEqualTo(2);
    } finally {
      listener.destroyForcibly();
      listener.waitFor();
    }
  }

  static List<Long> processesWithArgument(String marker) throws IOException {
    List<Long> found = new java.util.ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
          if (cmdline.contains(marker)) {
            found.add(Long.parseLong(name));
          }
        } catch (IOException gone) {
          // exited while we looked
        }
      }
    }
    return found;
  }
}
