package dev.paddock.sandbox.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the real paddock-init (target/classes/dev/paddock/sandbox/jail/paddock-init, built at compile)
 * outside any jail, driven by the C harness target/native/init-harness over a SOCK_SEQPACKET
 * socketpair: one harness run per scenario, each a self-checking program that prints what it saw and
 * ends with {@code PASS <scenario>}. The scenario list comes from the harness itself ({@code --list}),
 * so a scenario added there is tested here; the lines below pin what the main ones must print.
 *
 * <p>Linux and root only (SO_SNDBUFFORCE for 1 MiB frames, a PID namespace for the PID 1 scenario).
 * Off Linux it skips, except with {@code CI=true}; on Linux nothing skips.
 */
class PaddockInitTest {

  private static final Path NATIVE = Path.of("target", "native");

  /** Starts of lines each scenario must print besides {@code PASS <name>}. */
  private static final Map<String, List<String>> EXPECTED = Map.ofEntries(
      Map.entry("ready", List.of("ready protocol_version=1")),
      Map.entry("echo", List.of("started exec=1 pidfd=yes", "stdout=hi",
          "exited exec=1 exit_code=0 signal=0 core=0 leftover=0")),
      Map.entry("exit-code", List.of("exited exec=7 exit_code=137 signal=0 core=0 leftover=0")),
      Map.entry("killed-by-signal", List.of("exited exec=2 exit_code=0 signal=9")),
      Map.entry("exec-enoent", List.of("spawn_failed exec=3 stage=6 errno=2",
          "spawn_failed exec=4 stage=6 errno=2")),
      Map.entry("exec-eacces", List.of("spawn_failed exec=5 stage=6 errno=13")),
      Map.entry("chdir-missing", List.of("spawn_failed exec=6 stage=5 errno=2")),
      Map.entry("rlimit-nofile", List.of("nofile=64/100", "spawn_failed exec=10 stage=1 errno=0")),
      Map.entry("env-exact", List.of("env=exact")),
      Map.entry("signals-default", List.of("signals=default")),
      Map.entry("only-stdio-fds", List.of("fds=0,1,2")),
      Map.entry("kill-tree", List.of("exited exec=16 exit_code=0 signal=9",
          "census exec=16 processes=0", "census exec=161 processes=2",
          "census exec=161 processes=0")),
      Map.entry("kill-main", List.of("exited exec=17 exit_code=0 signal=15")),
      Map.entry("census-leftover", List.of("exited exec=18 exit_code=0 signal=0 core=0 leftover=1",
          "census exec=18 processes=1")),
      Map.entry("orphan-reaped", List.of("orphan reaped silently")),
      Map.entry("bad-requests", List.of("spawn_failed exec=20 stage=1 errno=0",
          "spawn_failed exec=21 stage=1 errno=0", "spawn_failed exec=23 stage=1 errno=0")),
      Map.entry("garbage-frame", List.of("fatal: malformed HostFrame", "init exit=3")),
      Map.entry("truncated-varint", List.of("fatal: malformed HostFrame: Spawn", "init exit=3")),
      Map.entry("empty-frame", List.of("fatal: empty or unknown HostFrame", "init exit=3")),
      Map.entry("unknown-frame", List.of("fatal: empty or unknown HostFrame", "init exit=3")),
      Map.entry("too-many-fds", List.of("init exit=3")),
      Map.entry("oversize-frame", List.of("fatal: HostFrame over 1 MiB", "init exit=3")),
      Map.entry("just-over-limit", List.of("fatal: HostFrame over 1 MiB", "init exit=3")),
      Map.entry("big-frame", List.of("big frame ok")),
      Map.entry("host-close", List.of("init exit=0", "children killed")),
      Map.entry("pid1", List.of("kill -9 1 ignored", "namespace killed")));

  @TestFactory
  Stream<DynamicTest> scenarios() throws Exception {
    // Compiled into the classes directory so the jar carries it (see the pom).
    Path init = Path.of("target", "classes", "dev", "paddock", "sandbox", "jail", "paddock-init");
    Path harness = binary("init-harness");
    List<String> names = run(List.of(harness.toString(), "--list")).lines().toList();
    assertThat(names).containsAll(EXPECTED.keySet());
    return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
      String out = run(List.of(harness.toString(), init.toString(), name));
      assertThat(out.lines()).as(out).contains("PASS " + name);
      List<String> lines = out.lines().toList();
      for (String expected : EXPECTED.getOrDefault(name, List.of())) {
        assertThat(lines).as("a line starting with \"%s\" in:%n%s", expected, out)
            .anyMatch(line -> line.startsWith(expected));
      }
    }));
  }

  private static Path binary(String name) {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      String reason = "paddock-init is Linux-only; this is " + os;
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true: PaddockInitTest may not skip (" + reason + ")");
      }
      System.out.println("SKIPPED: " + reason);
      Assumptions.abort(reason);
    }
    Path path = NATIVE.resolve(name).toAbsolutePath();
    if (!Files.isExecutable(path)) {
      fail(path + " missing: the exec-maven-plugin builds it at compile / test-compile");
    }
    return path;
  }

  /**
   * Runs a command to the end (90 s at most) and returns its stdout and stderr; exit 0 required.
   * Output goes to a file: a process left holding a pipe could otherwise block the read.
   */
  private static String run(List<String> command) throws IOException, InterruptedException {
    Path log = Files.createTempFile("paddock-init-test", ".log");
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      p.getOutputStream().close();
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " did not finish in 90 s:\n" + Files.readString(log));
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        fail(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + text);
      }
      return text;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
