package dev.paddock.sandbox.jail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxResult.Status;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import dev.paddock.sandbox.linux.Errno;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile stand-ins for paddock-init (src/test/c/hostile-init.c, one binary per protocol breach,
 * built at test-compile into target/native/hostile-&lt;mode&gt;) as PID 1 of real nsjail jails.
 *
 * <p>Each case starts a launcher whose {@link JailConfig#init} is the hostile binary, and from the
 * same launcher (so under the same reactor thread) a good jail with the real paddock-init, with an
 * exec that runs across the whole case. Then the hostile jail either fails to start (promptly, with
 * {@link SandboxSetupException}) or starts and fails: its failure listener hears a reason, its
 * pending exec ends INTERNAL_ERROR, a later spawn throws. Meanwhile the good jail runs execs, and
 * its long exec finishes normally afterwards. Finally nothing of the hostile jail is left: no
 * process, no cgroup directory, no scratch directory, and the host holds no more descriptors than
 * before the case.
 */
class HostileInitTest {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(2);
  /** How long any reaction of the host may take; it is usually a few milliseconds. */
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final WorkspaceLimits WORKSPACE = new WorkspaceLimits(16 << 20, 1000);
  private static final SandboxPolicy POLICY = DefaultPolicies.tool();

  @TempDir static Path temp;
  static final LinuxSyscalls linux = LinuxSyscalls.system();
  static ScheduledExecutorService timers;
  static ExecutorService callbacks;
  static Path nsjail;
  static Path realInit;
  static CgroupDriver cgroups;
  static CgroupLayout layout;

  @BeforeAll
  static void setUp() throws Exception {
    nsjail = JailRequirement.nsjail();
    realInit = InitBinary.locate(null, temp.resolve("bin"));
    cgroups = CgroupDriver.detect(Path.of("/sys/fs/cgroup"));
    layout = CgroupLayout.forDataDir(temp);
    timers = Executors.newScheduledThreadPool(2);
    callbacks = Executors.newCachedThreadPool();
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (callbacks != null) {
      callbacks.shutdown();
      callbacks.awaitTermination(10, TimeUnit.SECONDS);
      timers.shutdownNow();
    }
    if (cgroups != null) {
      cgroups.removeTree(layout.hostRoot()); // the (empty) parents of this run's session groups
    }
  }

  // ---- init breaks the protocol once an exec is pending ------------------------------------------

  @Test
  void garbageFrame() throws Exception {
    failsOnCue("garbage", "protocol violation: a frame that does not parse");
  }

  @Test
  void oversizeFrame() throws Exception {
    failsOnCue("oversize", "protocol violation: a frame over 4096 bytes");
  }

  @Test
  void unknownFrameField() throws Exception {
    failsOnCue("unknown", "protocol violation: an empty or unknown frame");
  }

  @Test
  void exitedForAnExecNeverSpawned() throws Exception {
    failsOnCue("unsolicited", "protocol violation: Exited for an exec that is not running");
  }

  @Test
  void censusFloodEndsAtTheFirstFrame() throws Exception {
    long heapBefore = usedHeapAfterGc();
    failsOnCue("flood", "protocol violation: an unsolicited Census");
    long grown = usedHeapAfterGc() - heapBefore;
    System.out.printf("hostile flood: heap grew by %d KiB over the case%n", grown >> 10);
    assertThat(grown).as("heap growth over a flood, bytes").isLessThan(32L << 20);
  }

  // ---- init is wrong from the start ---------------------------------------------------------------

  @Test
  void noReadyTimesOut() throws Exception {
    try (Stage stage = new Stage("noready")) {
      long t0 = System.nanoTime();
      assertThrows(SandboxSetupException.class, stage::startHostile);
      Duration took = since(t0);
      System.out.printf("hostile noready: start threw after %d ms (timeout %d ms)%n", took.toMillis(), START_TIMEOUT.toMillis());
      assertThat(took).isBetween(START_TIMEOUT, START_TIMEOUT.plusSeconds(2));
      stage.assertGoodJailServes();
      stage.assertHostileGone(null);
    }
  }

  @Test
  void unsupportedProtocolVersionIsRefusedAtStart() throws Exception {
    try (Stage stage = new Stage("badversion")) {
      long t0 = System.nanoTime();
      SandboxSetupException e = assertThrows(SandboxSetupException.class, stage::startHostile);
      Duration took = since(t0);
      System.out.printf("hostile badversion: start threw after %d ms%n", took.toMillis());
      assertThat(took).isLessThan(START_TIMEOUT);
      assertThat(e.getMessage()).doesNotContain(temp.toString());
      stage.assertGoodJailServes();
      stage.assertHostileGone(null);
    }
  }

  @Test
  void readyWithDescriptorsThatAreNotTheEgressListenersIsRefusedAtStart() throws Exception {
    try (Stage stage = new Stage("fakeegress")) {
      SandboxSetupException e = assertThrows(SandboxSetupException.class, stage::startHostile);
      System.out.printf("hostile fakeegress: start threw: %s%n", e.getMessage());
      stage.assertGoodJailServes();
      stage.assertHostileGone(null);
    }
  }

  // Repeated: each run lands somewhere else in the race between init's breach and the host's start.

  @RepeatedTest(4)
  void startedWithADescriptorBeforeAnySpawn() throws Exception {
    failsAtOnce("fdspam");
  }

  @RepeatedTest(4)
  void initExitsRightAfterReady() throws Exception {
    failsAtOnce("exit");
  }

  // ---- init stops reading ------------------------------------------------------------------------

  @Test
  void silentInitFillsTheChannelAndTheSpawnThatDoesNotFitFailsTheJail() throws Exception {
    try (Stage stage = new Stage("silent")) {
      SessionJail hostile = stage.startHostile();
      CompletableFuture<String> failed = stage.listen(hostile);
      // 256 KiB of argv per Spawn: the host's 4 MiB send buffer (SO_SNDBUFFORCE 2 MiB, doubled) takes about a dozen.
      ExecCommand big = command("sh", "-c", "#" + "x".repeat(256 << 10));
      List<JailExec> queued = new ArrayList<>();
      long t0 = System.nanoTime();
      SandboxSetupException refused = assertTimeoutPreemptively(PROMPTLY, () -> {
        while (true) {
          try {
            queued.add(hostile.spawn(big));
          } catch (SandboxSetupException e) {
            return e;
          }
          assertThat(queued).as("spawns the channel took").hasSizeLessThan(1000);
        }
      });
      Duration filled = since(t0);
      assertThat(refused.getCause()).isInstanceOf(NativeException.class);
      assertThat(((NativeException) refused.getCause()).errno()).isEqualTo(Errno.EAGAIN);
      String reason = failed.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
      Duration toFailure = since(t0);
      assertThat(reason).contains("does not take requests").contains("EAGAIN");
      stage.assertGoodJailServes();
      for (JailExec exec : queued) {
        assertInternalError(exec);
      }
      assertThrows(SandboxSetupException.class, () -> hostile.spawn(command("true")));
      System.out.printf("hostile silent: %d spawns queued, the next refused after %d ms (EAGAIN), jail failed after %d ms%n",
          queued.size(), filled.toMillis(), toFailure.toMillis());
      stage.assertHostileGone(hostile);
    }
  }

  // ---- the two shapes of a case ------------------------------------------------------------------

  /** Init sends Ready, then breaks the protocol when the host's first Spawn arrives. */
  private static void failsOnCue(String mode, String expectedReason) throws Exception {
    try (Stage stage = new Stage(mode)) {
      long t0 = System.nanoTime();
      SessionJail hostile = stage.startHostile();
      Duration started = since(t0);
      CompletableFuture<String> failed = stage.listen(hostile);
      long t1 = System.nanoTime();
      JailExec pending = hostile.spawn(command("true"));
      stage.assertGoodJailServes();
      String reason = failed.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
      Duration toFailure = since(t1);
      assertThat(reason).startsWith(expectedReason);
      assertInternalError(pending);
      Duration toResult = since(t1);
      assertThrows(SandboxSetupException.class, () -> hostile.spawn(command("true")));
      stage.assertGoodJailServes();
      System.out.printf("hostile %s: started in %d ms; after the cue, failed in %d ms (\"%s\"), pending exec INTERNAL_ERROR in %d ms%n",
          mode, started.toMillis(), toFailure.toMillis(), reason, toResult.toMillis());
      stage.assertHostileGone(hostile);
    }
  }

  /** Init breaks the protocol right after Ready, racing the host's start: either outcome is fine. */
  private static void failsAtOnce(String mode) throws Exception {
    try (Stage stage = new Stage(mode)) {
      long t0 = System.nanoTime();
      SessionJail hostile;
      try {
        hostile = stage.startHostile();
      } catch (SandboxSetupException e) {
        Duration took = since(t0);
        System.out.printf("hostile %s: start threw after %d ms%n", mode, took.toMillis());
        assertThat(took).isLessThan(START_TIMEOUT);
        stage.assertGoodJailServes();
        stage.assertHostileGone(null);
        return;
      }
      CompletableFuture<String> failed = stage.listen(hostile);
      String reason = failed.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
      Duration toFailure = since(t0);
      assertThat(reason).isNotBlank();
      assertThat(hostile.alive()).isFalse();
      assertThrows(SandboxSetupException.class, () -> hostile.spawn(command("true")));
      stage.assertGoodJailServes();
      System.out.printf("hostile %s: start returned, failed %d ms after start began (\"%s\")%n",
          mode, toFailure.toMillis(), reason);
      stage.assertHostileGone(hostile);
    }
  }

  private static void assertInternalError(JailExec exec) throws Exception {
    SandboxResult result = exec.result().get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(result.status()).isEqualTo(Status.INTERNAL_ERROR);
    assertThat(result.reason()).doesNotContain(temp.toString());
    exec.stdin().close();
    exec.stdout().close();
    exec.stderr().close();
  }

  // ---- one case: a launcher over a hostile init, with a good jail beside it ------------------------

  /**
   * A launcher whose init is {@code hostile-<mode>}, with a good jail (the real init) started from
   * it and an exec in that jail that waits for a line on stdin until {@link #close}.
   */
  private static final class Stage implements AutoCloseable {
    private final String mode;
    private final long fdsBefore;
    private final Path scratchRoot;
    private final JailLauncher launcher;
    private final SessionJail good;
    private final String goodCgroup;
    private final JailExec longExec;
    private final CompletableFuture<byte[]> longOut;
    private String hostileCgroup;

    Stage(String mode) throws Exception {
      this.mode = mode;
      this.fdsBefore = openDescriptors();
      Path binary = Path.of("target", "native", "hostile-" + mode).toAbsolutePath();
      assertThat(binary).as("built by sandbox-native's pom at test-compile").isExecutable();
      scratchRoot = temp.resolve("scratch-" + mode);
      launcher = new JailLauncher(new JailConfig(nsjail, binary, scratchRoot, TestJail.OUTSIDE_UID, TestJail.OUTSIDE_UID),
          cgroups, linux, timers, callbacks, START_TIMEOUT);
      String id = id("good");
      goodCgroup = layout.session("test", id);
      good = launcher.start(id, goodCgroup, POLICY, WORKSPACE, realInit);
      longExec = good.spawn(command("sh", "-c", "read line; echo ok $line"));
      longOut = CompletableFuture.supplyAsync(() -> drain(longExec.stdout()), callbacks);
      longExec.stderr().close();
    }

    SessionJail startHostile() throws SandboxSetupException {
      String id = id(mode);
      hostileCgroup = layout.session("test", id);
      return launcher.start(id, hostileCgroup, POLICY, WORKSPACE);
    }

    /** The reason the hostile jail failed with, once its failure listener hears it. */
    CompletableFuture<String> listen(SessionJail hostile) {
      CompletableFuture<String> failed = new CompletableFuture<>();
      hostile.onFailure(failed::complete);
      return failed;
    }

    /** The good jail runs {@code echo ok} as if nothing happened. */
    void assertGoodJailServes() throws Exception {
      long t0 = System.nanoTime();
      JailExec exec = good.spawn(command("echo", "ok"));
      exec.stdin().close();
      exec.stderr().close();
      byte[] out = drain(exec.stdout());
      SandboxResult result = exec.result().get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(result.status()).as("the good jail's exec, %d ms", since(t0).toMillis()).isEqualTo(Status.OK);
      assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo("ok\n");
      assertThat(good.alive()).isTrue();
    }

    /**
     * Within a few seconds nothing of the hostile jail is left: no process (its nsjail pid, when
     * known, and any process naming its scratch directory), no cgroup directory in any hierarchy,
     * no scratch directory. The good jail still stands.
     */
    void assertHostileGone(SessionJail hostile) throws Exception {
      String goodScratch = good.scratch.toString();
      awaitTrue("the hostile jail's cgroup directories removed", () -> cgroupDirs(hostileCgroup).isEmpty());
      awaitTrue("the hostile jail's scratch directory removed", () -> list(scratchRoot).equals(List.of(goodScratch)));
      awaitTrue("no process of the hostile jail", () -> processesNaming(scratchRoot.toString()).stream()
          .allMatch(pid -> pid == good.nsjailPid()));
      if (hostile != null) {
        awaitTrue("nsjail " + hostile.nsjailPid() + " gone", () -> !Files.exists(Path.of("/proc", Long.toString(hostile.nsjailPid()))));
        assertThat(hostile.alive()).isFalse();
        assertThat(hostile.runningExecs()).isZero();
      }
      assertThat(good.alive()).isTrue();
    }

    @Override
    public void close() throws Exception {
      byte[] line = "x\n".getBytes(StandardCharsets.UTF_8);
      linux.write(longExec.stdin(), line, 0, line.length);
      longExec.stdin().close();
      SandboxResult result = longExec.result().get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS);
      assertThat(result.status()).as("the good jail's long exec").isEqualTo(Status.OK);
      assertThat(new String(longOut.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS), StandardCharsets.UTF_8)).isEqualTo("ok x\n");
      good.close("case done");
      awaitTrue("the good jail removed", () -> cgroupDirs(goodCgroup).isEmpty() && list(scratchRoot).isEmpty());
      launcher.close();
      awaitTrue("descriptors of the case closed (" + fdsBefore + " before)", () -> openDescriptors() <= fdsBefore);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static ExecCommand command(String... argv) {
    return new ExecCommand(List.of(argv), List.of("PATH=/usr/bin:/bin"), "/workspace", Duration.ofSeconds(60),
        Duration.ZERO, 1 << 20, 64);
  }

  private static String id(String prefix) {
    return prefix + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }

  private static byte[] drain(Fd fd) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = linux.read(fd, buf, 0, buf.length)) > 0) {
        all.write(buf, 0, n);
      }
    } catch (NativeException e) {
      throw new IllegalStateException(e);
    } finally {
      fd.close();
    }
    return all.toByteArray();
  }

  private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + PROMPTLY.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + PROMPTLY.toMillis() + " ms: " + what);
      }
      Thread.sleep(20);
    }
  }

  /** The directories of the cgroup {@code relative} in every hierarchy (v1) or the unified one (v2). */
  private static List<Path> cgroupDirs(String relative) {
    Path root = Path.of("/sys/fs/cgroup");
    List<Path> found = new ArrayList<>();
    if (Files.isDirectory(root.resolve(relative))) {
      found.add(root.resolve(relative));
    }
    for (Path hierarchy : list(root).stream().map(root::resolve).collect(Collectors.toList())) {
      if (Files.isDirectory(hierarchy.resolve(relative))) {
        found.add(hierarchy.resolve(relative));
      }
    }
    return found;
  }

  private static List<String> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    } catch (IOException e) {
      return List.of("(unreadable: " + e + ")");
    }
  }

  /** Host pids whose command line contains {@code text}. */
  private static List<Long> processesNaming(String text) {
    List<Long> pids = new ArrayList<>();
    for (String entry : list(Path.of("/proc"))) {
      if (!entry.chars().allMatch(Character::isDigit)) {
        continue;
      }
      try {
        byte[] cmdline = Files.readAllBytes(Path.of("/proc", entry, "cmdline"));
        if (new String(cmdline, StandardCharsets.UTF_8).contains(text)) {
          pids.add(Long.parseLong(entry));
        }
      } catch (IOException gone) {
        // exited while we looked
      }
    }
    return pids;
  }

  private static long openDescriptors() {
    return list(Path.of("/proc/self/fd")).size();
  }

  private static long usedHeapAfterGc() {
    Runtime runtime = Runtime.getRuntime();
    System.gc();
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
