package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ResourceLimits;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * While the tenant "noisy" does everything it may (two CPU spinners, memory hogs in all five of its
 * sessions, a fork bomb, a workspace kept full, and a flood of execs from another process), the
 * kernel holds noisy at its totals and tenant beta is served: every beta call succeeds, and beta's
 * exec latency p99 is compared with its p99 alone. Beta's client and noisy's flood are processes of
 * their own, as from other machines.
 *
 * <p>Both figures are the host's steady state: beta warms up beside the storm, and again alone, until
 * the host's JIT compiler is quiet (a host serves for days; a fresh JVM's compiler threads take a
 * core of the two). "Alone" is measured twice, before the storm and after noisy's sessions are
 * closed, and the ratio is taken to the faster of the two: a moment of other load on the machine
 * during one of them would otherwise make the ratio look better than it is.
 *
 * <p>The target is a p99 within 2x of alone. On these 2-core machines the ratio measures
 * 1.5x to 4.7x from run to run (BENCHMARKS.md, "Noisy neighbour": 2.6-3.7x in CI on one VM, where
 * "alone" was fast; 1.5-2.1x on a slower one, only because "alone" was slower there), so the test
 * asserts {@link #REGRESSION_BOUND} instead, and prints the ratio: a guard against the regressions
 * seen before (14-31x without the tarpit for refused calls, about 10x with the host's JIT still
 * compiling), not the target met.
 */
class NoisyNeighbourEndToEndTest extends SharedHostTest {
  /** Execs per warm-up batch. */
  private static final int BATCH = 500;
  /** Warm-up batches at most per phase (about 20-25 are needed here). */
  private static final int MAX_WARM_UP_BATCHES = 30;
  /** Execs measured alone and beside noisy: p99 is the 20th slowest. */
  private static final int SAMPLES = Integer.getInteger("nn.samples", 2000);
  /**
   * Beta's p99 beside noisy may be at most this many times its p99 alone, counted as at least
   * {@link #ALONE_FLOOR_NANOS} (the target is 2).
   */
  private static final int REGRESSION_BOUND = 6;
  /**
   * The least "alone" p99 the bound is taken from: 5 ms, about what it was when the bound was set
   * (beside noisy then 11-19 ms). Execs got faster since (alone 2.8 ms in CI) while the wait beside
   * noisy did not shrink with them, and a faster exec alone must not make the guard stricter than
   * the regressions it is for (50-150 ms beside noisy).
   */
  private static final long ALONE_FLOOR_NANOS = 5_000_000;
  /**
   * How long the storm may take to use up noisy's exec rate before beta is measured beside it. The
   * flood's JVM starts in about a second and then sends far more than 600 a minute; the
   * measurement's own check fails if it never gets there.
   */
  private static final int RATE_WAIT_SECONDS = 60;
  /** Milliseconds of host JIT per batch of beta execs under which the host counts as warm. */
  private static final int JIT_QUIET_MILLIS = 20;
  /** Workspace of the session that keeps its workspace full: small, so its pages leave the hog room. */
  private static final long FULL_WORKSPACE_BYTES = 64L << 20;
  /** Noisy's storm, one command per session; each session also runs {@link #MEMORY_HOG}. The fork bomb goes last. */
  private static final List<String> STORMS = List.of(
      "while :; do :; done", // CPU
      "while :; do :; done",
      "while :; do dd if=/dev/zero of=/workspace/fill bs=1M count=1024 2>/dev/null; rm -f /workspace/fill; done", // ENOSPC
      "sleep 300",
      "python3 -c \"import os\nwhile True:\n  try:\n    if os.fork() == 0: os.execv('/bin/sleep', ['sleep', '30'])\n"
          + "  except OSError: pass\"" /* at noisy's process total */);
  /**
   * Grows until the kernel kills it at noisy's memory total, then holds 40 MiB, touching it every
   * second: five of them keep noisy's memory near its total without the OOM killer, once they all
   * hold, having to pick among noisy's other storms. It starts after a second: by then the host has
   * made the exec the OOM killer's first choice, and the hog inherits that (a child forked at once
   * would not, and the killer would take noisy's small shells first).
   */
  private static final String MEMORY_HOG = "sleep 1; python3 -c \"b = []\nwhile True: b.append(bytearray(16 << 20))\";"
      + " exec python3 -c \"import time\nb = bytearray(40 << 20)\nwhile True:\n  for i in range(0, len(b), 4096): b[i] = 1\n"
      + "  time.sleep(1)\"";

  private static final Path CGROUPS = Path.of("/sys/fs/cgroup");

  private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
  private BufferedWriter toBeta;
  private BufferedReader fromBeta;

  /**
   * One batch of beta's execs: each one's latency on the client, the host's wall time of it in the
   * jail ({@code usage.wall_time}) and the client's time until its ExecStarted event (after the
   * host's admission, the start record and the program's execve), ns, in the same order.
   */
  private record Batch(long[] took, long[] jail, long[] started) {
    long p99() {
      return p99(took);
    }

    private static long p99(long[] values) {
      long[] sorted = values.clone();
      Arrays.sort(sorted);
      return sorted[(int) Math.ceil(0.99 * sorted.length) - 1];
    }

    String describe() {
      long[] sorted = took.clone();
      Arrays.sort(sorted);
      return String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms, max %.2f ms", sorted[sorted.length / 2] / 1e6,
          p99() / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    /** The five slowest execs as "total/started/jail" in ms, then the p99 of "started" and of "jail". */
    String slowest() {
      Integer[] order = new Integer[took.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Long.compare(took[b], took[a]));
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < Math.min(5, order.length); i++) {
        out.append(String.format(Locale.ROOT, " %.1f/%.1f/%.1f", took[order[i]] / 1e6, started[order[i]] / 1e6,
            jail[order[i]] / 1e6));
      }
      return out.toString().trim() + String.format(Locale.ROOT, "; p99 started %.2f, jail %.2f", p99(started) / 1e6,
          p99(jail) / 1e6);
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(300)
  void aTenantAtItsLimitsIsHeldThereWhileAnotherIsServed() throws Exception {
    String beta = host.newSession(host.betaKey);
    Process betaClient = javaProcess(LatencyClient.class, Integer.toString(host.port()), host.betaKey, beta)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    List<String> storm = new ArrayList<>();
    Process flood = null;
    try {
      toBeta = new BufferedWriter(new OutputStreamWriter(betaClient.getOutputStream()));
      fromBeta = new BufferedReader(new InputStreamReader(betaClient.getInputStream()));
      // Alone before the storm as well as after it: one slow "alone" (the machine busy with
      // something else for a moment) must not flatter the ratio.
      warmUp("alone, before noisy");
      Batch aloneBefore = latencies(SAMPLES);
      System.out.println("noisy neighbour: slowest alone before, total/started/jail ms: " + aloneBefore.slowest());

      for (String command : STORMS) { // every session first: once the fork bomb runs, no jail starts
        storm.add(host.sessions(host.noisyKey).createSession(CreateSessionRequest.newBuilder()
            .setLimits(ResourceLimits.newBuilder().setWorkspaceBytes(command.contains("/workspace") ? FULL_WORKSPACE_BYTES : 0))
            .build()).getSessionId());
      }
      for (int i = 0; i < STORMS.size(); i++) {
        for (String each : List.of(MEMORY_HOG, STORMS.get(i))) {
          host.execs(host.noisyKey).startExec(ExecRequest.newBuilder().setSessionId(storm.get(i))
              .addAllArgv(List.of("sh", "-c", each)).setTimeLimit(com.google.protobuf.util.Durations.fromSeconds(300))
              .build());
        }
      }
      // niced, so that the host pays for handling the flood, not the test for making it
      List<String> floodCommand = new ArrayList<>(List.of("nice", "-n", "19"));
      floodCommand.addAll(javaProcess(FloodClient.class, Integer.toString(host.port()), host.noisyKey, storm.get(0), "4")
          .command());
      flood = new ProcessBuilder(floodCommand).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      Thread.sleep(3000); // the storm at noisy's limits
      warmUp("beside noisy");
      // The host may be warm already (beta warmed up alone first), so the warm-up above can be
      // short: measure only once the flood has used up noisy's exec rate, as every other storm is
      // at its limit within the three seconds.
      var noisyTenant = dev.paddock.ipc.v1.TenantServiceGrpc.newBlockingStub(host.channel(host.noisyKey, null));
      long rateWaitStart = System.nanoTime();
      long rateWaitNanos = TimeUnit.SECONDS.toNanos(RATE_WAIT_SECONDS);
      while (rateRefusals(noisyTenant) == 0 && System.nanoTime() - rateWaitStart < rateWaitNanos) {
        Thread.sleep(200);
      }
      System.out.printf(Locale.ROOT, "noisy neighbour: waited %.1f s more for noisy's exec rate to be used up%n",
          (System.nanoTime() - rateWaitStart) / 1e9);
      String noisy = dev.paddock.sandbox.cgroup.CgroupLayout.forDataDir(host.dataDir).tenant("noisy");
      long cpuBefore = number(CGROUPS.resolve("cpuacct").resolve(noisy).resolve("cpuacct.usage"));
      long wallBefore = System.nanoTime();
      Batch crowded = latencies(SAMPLES);
      System.out.println("noisy neighbour: slowest beside noisy, total/started/jail ms: " + crowded.slowest());
      double cores = (number(CGROUPS.resolve("cpuacct").resolve(noisy).resolve("cpuacct.usage")) - cpuBefore)
          / (double) (System.nanoTime() - wallBefore);
      long memoryPeak = number(CGROUPS.resolve("memory").resolve(noisy).resolve("memory.max_usage_in_bytes"));
      long processes = number(CGROUPS.resolve("pids").resolve(noisy).resolve("pids.current"));
      long forksRefused = forksRefused(CGROUPS.resolve("pids").resolve(noisy));
      long floodRefused = rateRefusals(noisyTenant);
      System.out.printf(Locale.ROOT, "noisy neighbour: noisy used %.2f cores (budget %.2f), memory peak %d MiB (budget %d MiB),"
          + " %d processes (budget %d), %d forks refused, %d execs refused by its rate%n", cores,
          TestHost.NOISY_CPU_MILLICORES / 1000.0, memoryPeak >> 20, TestHost.NOISY_MEMORY >> 20, processes,
          TestHost.NOISY_PROCESSES, forksRefused, floodRefused);
      // The kernel holds noisy at its totals, and noisy really pushes at them.
      assertThat(cores).as("noisy's CPU, cores").isBetween(0.8 * TestHost.NOISY_CPU_MILLICORES / 1000.0,
          1.05 * TestHost.NOISY_CPU_MILLICORES / 1000.0);
      assertThat(memoryPeak).as("noisy's memory peak").isLessThanOrEqualTo(TestHost.NOISY_MEMORY)
          .isGreaterThan(TestHost.NOISY_MEMORY - (64L << 20));
      assertThat(processes).as("noisy's processes").isLessThanOrEqualTo(TestHost.NOISY_PROCESSES);
      assertThat(forksRefused).as("forks noisy's process budgets refused").isPositive();
      assertThat(floodRefused).as("noisy's execs refused by its rate").isPositive();

      flood.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      closeAll(storm);
      Thread.sleep(1000);
      warmUp("alone again");
      Batch aloneAfter = latencies(SAMPLES);
      System.out.println("noisy neighbour: slowest alone after, total/started/jail ms: " + aloneAfter.slowest());
      Batch alone = aloneBefore.p99() <= aloneAfter.p99() ? aloneBefore : aloneAfter;

      System.out.printf(Locale.ROOT, "noisy neighbour: beta exec alone before %s, after %s; beside noisy %s;"
          + " p99 ratio to the faster alone %.2f (target 2)%n", aloneBefore.describe(), aloneAfter.describe(),
          crowded.describe(), crowded.p99() / (double) alone.p99());
      assertThat(crowded.p99()).as("beta's exec p99 beside noisy (%s) against alone (%s)", crowded.describe(),
          alone.describe()).isLessThanOrEqualTo(REGRESSION_BOUND * Math.max(alone.p99(), ALONE_FLOOR_NANOS));
    } finally {
      if (flood != null) {
        flood.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      betaClient.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      closeAll(storm);
    }
  }

  /** Noisy's calls refused so far by its exec rate (GetTenantUsage). */
  private static long rateRefusals(dev.paddock.ipc.v1.TenantServiceGrpc.TenantServiceBlockingStub noisyTenant) {
    return noisyTenant.getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.getDefaultInstance()).getDenialsList()
        .stream().filter(d -> d.getReason().equals("RATE_LIMITED")).mapToLong(dev.paddock.ipc.v1.DenialCount::getCount).sum();
  }

  /** Closes the noisy tenant's sessions in {@code storm} (which ends every storm in them) and forgets them. */
  private void closeAll(List<String> storm) {
    for (String s : storm) {
      host.sessions(host.noisyKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(s).build());
    }
    storm.clear();
  }

  /** Batches of beta execs until one costs the host's JIT under {@link #JIT_QUIET_MILLIS}. */
  private void warmUp(String phase) throws IOException {
    for (int batch = 0; batch < MAX_WARM_UP_BATCHES; batch++) {
      long before = jit.getTotalCompilationTime();
      latencies(BATCH);
      long spent = jit.getTotalCompilationTime() - before;
      if (batch >= 1 && spent < JIT_QUIET_MILLIS) {
        System.out.printf(Locale.ROOT, "noisy neighbour: warm %s after %d batches%n", phase, batch + 1);
        return;
      }
    }
    System.out.printf(Locale.ROOT, "noisy neighbour: the host's JIT was still busy %s after %d batches%n", phase,
        MAX_WARM_UP_BATCHES);
  }

  /** Asks beta's client for a batch of {@code samples} execs; each must have succeeded. */
  private Batch latencies(int samples) throws IOException {
    toBeta.write(samples + "\n");
    toBeta.flush();
    String line = fromBeta.readLine();
    assertThat(line).as("beta's client answered").isNotNull();
    String[] execs = line.trim().split(" ");
    long[] took = new long[execs.length];
    long[] jail = new long[execs.length];
    long[] started = new long[execs.length];
    for (int i = 0; i < execs.length; i++) {
      String[] fields = execs[i].split(":"); // took:jail:started
      took[i] = Long.parseLong(fields[0]);
      jail[i] = Long.parseLong(fields[1]);
      started[i] = Long.parseLong(fields[2]);
    }
    assertThat(took).hasSize(samples);
    assertThat(Arrays.stream(took).min().orElse(-1)).as("every beta exec succeeded").isPositive();
    return new Batch(took, jail, started);
  }

  /** Forks refused in {@code group} and every group under it (cgroup v1 counts a refusal where the fork was). */
  private static long forksRefused(Path group) throws IOException {
    long refused = 0;
    try (var files = java.nio.file.Files.walk(group)) {
      for (Path events : (Iterable<Path>) files.filter(f -> f.getFileName().toString().equals("pids.events"))::iterator) {
        for (String line : java.nio.file.Files.readAllLines(events)) {
          if (line.startsWith("max ")) {
            refused += Long.parseLong(line.substring(4).trim());
          }
        }
      }
    }
    return refused;
  }

  private static long number(Path file) throws IOException {
    return Long.parseLong(java.nio.file.Files.readString(file).trim());
  }

  private static ProcessBuilder javaProcess(Class<?> main, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }
}
