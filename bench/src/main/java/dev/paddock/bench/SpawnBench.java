package dev.paddock.bench;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.sandbox.SandboxProcess;
import dev.paddock.sandbox.SandboxRequest;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.nsjail.NsjailConfig;
import dev.paddock.sandbox.nsjail.NsjailLauncher;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Spawn-latency harness: in one JVM, one run, measures side by side
 *
 * <ul>
 *   <li>(a) CreateSession + Exec {@code /bin/true} (stream read to its result) + CloseSession
 *       through the real gRPC host on a TCP loopback port;
 *   <li>(b) raw nsjail running {@code /bin/true} with the same policy (the exact argv of
 *       {@link NsjailLauncher#nsjailCommandLine}), ProcessBuilder + waitFor;
 *   <li>(c) time from sending Exec {@code echo hi} in an open session to the first OutputChunk;
 *   <li>(d) Exec {@code /bin/true} alone in an open session;
 * </ul>
 *
 * plus intermediate steps that show where the difference between (b) and (a) goes. Every probe
 * runs once per round, in a freshly shuffled order each round, so drift (page cache, CPU
 * frequency, background work) hits all of them alike. Warm-up rounds are run and discarded.
 *
 * <p>Needs root (cgroups) and nsjail. Exits 0 whether or not the targets are met; a probe that
 * does not end the way it should (non-zero exit, wrong output) aborts the run with exit 1.
 */
public final class SpawnBench {
  private static final int SANDBOX_ID = 99999;
  private static final double TARGET_OVERHEAD_P50 = 1.5;
  private static final double TARGET_FIRST_BYTE_P50_MS = 20.0;

  private SpawnBench() {}

  /** One measured operation: does it once and returns its duration in nanoseconds. */
  @FunctionalInterface
  private interface Probe {
    long once(int round) throws Exception;
  }

  /** A probe and the samples it collected. */
  private static final class Series {
    final String key;
    final String label;
    final Probe probe;
    final long[] samples;
    /** For a part of another probe's time (probe == null): that probe's key. */
    final String parent;

    Series(String key, String label, Probe probe, int rounds) {
      this(key, label, probe, rounds, null);
    }

    private Series(String key, String label, Probe probe, int rounds, String parent) {
      this.key = key;
      this.label = label;
      this.probe = probe;
      this.samples = new long[rounds];
      this.parent = parent;
    }

    /** A series filled in by the probe {@code parent} (a step of its operation), not run itself. */
    static Series part(String key, String label, String parent, int rounds) {
      return new Series(key, label, null, rounds, parent);
    }

    String group() {
      return parent == null ? key : parent;
    }
  }

  /** Command-line and system-property settings. */
  record Options(int warmup, int iterations, Path nsjail, Path workBase, long seed, Path samplesFile,
      java.util.Set<String> only, boolean printArgv, int jitWarmup) {
    static Options parse(String[] args) {
      int warmup = Integer.getInteger("bench.warmup", 30);
      int iterations = Integer.getInteger("bench.iterations", 200);
      String nsjail = System.getProperty("bench.nsjail");
      String workBase = System.getProperty("bench.dir", "/tmp");
      long seed = Long.getLong("bench.seed", 42L);
      String samples = System.getProperty("bench.samples");
      String only = System.getProperty("bench.only", "");
      boolean printArgv = false;
      int jitWarmup = Integer.getInteger("bench.jitWarmup", 10000);
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--warmup" -> warmup = Integer.parseInt(value(args, ++i, a));
          case "--iterations" -> iterations = Integer.parseInt(value(args, ++i, a));
          case "--nsjail" -> nsjail = value(args, ++i, a);
          case "--work-dir" -> workBase = value(args, ++i, a);
          case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
          case "--samples" -> samples = value(args, ++i, a);
          case "--only" -> only = value(args, ++i, a);
          case "--jit-warmup" -> jitWarmup = Integer.parseInt(value(args, ++i, a));
          case "--print-argv" -> printArgv = true;
          case "-h", "--help" -> {
            System.out.println(String.join("\n",
                "usage: scripts/bench [--warmup N] [--iterations N] [--nsjail PATH] [--work-dir DIR] [--seed N] [--samples FILE]",
                "  --jit-warmup N  GetSession calls made first so the JIT has compiled the gRPC path (default 10000;",
                "                  -Dbench.jitWarmup; 0 = measure a freshly started host)",
                "  --warmup N      rounds run and discarded first (default 30; -Dbench.warmup)",
                "  --iterations N  measured rounds (default 200; -Dbench.iterations)",
                "  --nsjail PATH   nsjail binary (default $PADDOCK_NSJAIL, else <root>/.paddock/tools/nsjail/nsjail/bin/nsjail)",
                "  --work-dir DIR  where the temporary host data directory goes (default /tmp; its parents need o+x)",
                "  --seed N        seed of the per-round probe order (default 42)",
                "  --samples FILE  also write every sample (ms) as CSV",
                "  --only KEYS     run only these probes, comma-separated (b,b1,cg,b2,l,g,d,a,c0,c); ratios need a,b,c,d",
                "  --print-argv    print the baseline's nsjail argv for /bin/true and exit"));
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown argument: " + a + " (try --help)");
        }
      }
      if (warmup < 0 || iterations < 1 || jitWarmup < 0) {
        throw new IllegalArgumentException("need --warmup >= 0, --jit-warmup >= 0 and --iterations >= 1");
      }
      java.util.Set<String> onlyKeys = new java.util.LinkedHashSet<>();
      for (String k : only.split(",")) {
        if (!k.isBlank()) {
          onlyKeys.add(k.trim());
        }
      }
      return new Options(warmup, iterations, nsjailPath(nsjail), Path.of(workBase).toAbsolutePath(), seed,
          samples == null ? null : Path.of(samples).toAbsolutePath(), onlyKeys, printArgv, jitWarmup);
    }

    private static String value(String[] args, int i, String flag) {
      if (i >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      return args[i];
    }

    /** --nsjail, else $PADDOCK_NSJAIL, else the project-local install under paddock.root (or cwd). */
    private static Path nsjailPath(String flag) {
      if (flag != null && !flag.isBlank()) {
        return Path.of(flag).toAbsolutePath();
      }
      String env = System.getenv("PADDOCK_NSJAIL");
      if (env != null && !env.isBlank()) {
        return Path.of(env).toAbsolutePath();
      }
      Path root = Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize();
      return root.resolve(".paddock/tools/nsjail/nsjail/bin/nsjail");
    }
  }

  public static void main(String[] args) throws Exception {
    // Before the first logger exists: the host's logback.xml reads this (system property or env).
    if (System.getProperty("PADDOCK_LOG_LEVEL") == null) {
      String env = System.getenv("PADDOCK_LOG_LEVEL");
      System.setProperty("PADDOCK_LOG_LEVEL", env == null || env.isBlank() ? "WARN" : env);
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    int code;
    try {
      code = new SpawnBench().run(options, System.out);
    } catch (Exception e) {
      System.err.println("bench: FAILED: " + e);
      e.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }

  private int run(Options o, PrintStream out) throws Exception {
    Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    if (!Integer.valueOf(0).equals(uid)) {
      System.err.println("bench: needs root (it creates cgroups and runs nsjail as the host does); uid is " + uid);
      return 2;
    }
    if (!Files.isExecutable(o.nsjail())) {
      System.err.println("bench: nsjail not found at " + o.nsjail() + " (run scripts/setup, or set PADDOCK_NSJAIL)");
      return 2;
    }

    Path work = Files.createTempDirectory(o.workBase(), "paddock-bench-");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    String cgroupBase = "paddock/bench-" + HexFormat.of().toHexDigits(System.nanoTime());
    Clock clock = Clock.systemUTC();
    Resources res = new Resources(work, cgroupBase);
    Thread hook = new Thread(res::close, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      // --- the baseline: a launcher of its own (same config shape as the host's), used for argv
      CgroupDriver cgroups = CgroupDriver.detect(Path.of("/sys/fs/cgroup"));
      LinuxSyscalls linux = LinuxSyscalls.system();
      Path rawData = work.resolve("raw");
      NsjailLauncher launcher = new NsjailLauncher(
          new NsjailConfig(o.nsjail(), SANDBOX_ID, SANDBOX_ID, rawData.resolve("scratch"), rawData.resolve("workspaces")),
          cgroups, linux);
      res.launcher = launcher;
      Path workspace = launcher.createWorkspace("ws");
      // The host's sessions get DefaultPolicies.tool() with Limits.DEFAULTS and the 60 s default
      // exec time limit; DefaultPolicies.tool() already carries exactly those limits.
      SandboxPolicy policy = DefaultPolicies.tool();
      Path logDir = rawData.resolve("logs");
      Files.createDirectories(logDir);
      Path rawLog = logDir.resolve("nsjail.log");
      List<String> trueArgv = launcher.nsjailCommandLine(
          new SandboxRequest(List.of("/bin/true"), Map.of(), "", null, workspace, policy, cgroupBase + "/unused"), rawLog,
          logDir.resolve("true-env.cfg"));
      List<String> echoArgv = launcher.nsjailCommandLine(
          new SandboxRequest(List.of("echo", "hi"), Map.of(), "", null, workspace, policy, cgroupBase + "/unused"), rawLog,
          logDir.resolve("echo-env.cfg"));
      Limits groupLimits = policy.limits().toBuilder().processes(policy.limits().maxProcesses() + 1).build();

      if (o.printArgv()) {
        StringBuilder line = new StringBuilder();
        for (String arg : trueArgv) {
          line.append(line.length() == 0 ? "" : " ").append(shellQuote(arg));
        }
        // Temporary paths shown as /tmp/...: the workspace must exist (owned by uid 99999, mode 0700)
        // and the env file must be copied there to replay this line by hand.
        out.println(line.toString().replace(logDir.toString(), "/tmp").replace(workspace.toString(), "/tmp/ws"));
        out.print("# /tmp/true-env.cfg:\n# " + Files.readString(logDir.resolve("true-env.cfg")).replace("\n", "\n# "));
        out.println();
        return 0;
      }

      // --- the host, exactly as `paddock serve` builds it, on a loopback port chosen by the kernel
      Path hostData = work.resolve("host");
      Files.createDirectories(hostData);
      Files.setPosixFilePermissions(hostData, PosixFilePermissions.fromString("rwx--x--x"));
      // A tenant of this run only, so its cgroup subtree (paddock/t-<tenant>) can be removed at the end.
      String tenant = "bench-" + HexFormat.of().toHexDigits((int) System.nanoTime());
      res.tenantCgroup = "paddock/t-" + tenant;
      String apiKey = new TenantAdmin(hostData.resolve("tenants.yaml"), clock).rotateKey(tenant, "bench").key();
      res.host = RuntimeServer.start(new HostConfig(new InetSocketAddress("127.0.0.1", 0), hostData, o.nsjail(),
          SANDBOX_ID, SANDBOX_ID, Path.of("/sys/fs/cgroup"), SessionSettings.defaults()), clock);
      Metadata auth = new Metadata();
      auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
      res.channel = NettyChannelBuilder.forAddress("127.0.0.1", res.host.port())
          .usePlaintext()
          .intercept(MetadataUtils.newAttachHeadersInterceptor(auth))
          .build();
      SessionServiceGrpc.SessionServiceBlockingStub sessions = SessionServiceGrpc.newBlockingStub(res.channel);
      ExecServiceGrpc.ExecServiceBlockingStub execs = ExecServiceGrpc.newBlockingStub(res.channel);

      ProcessBuilder rawTrue = new ProcessBuilder(trueArgv)
          .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD);
      rawTrue.environment().clear();
      List<String> viaSh = new ArrayList<>(List.of("/bin/sh", "-c", "exec \"$@\"", "paddock-jail"));
      viaSh.addAll(trueArgv);
      ProcessBuilder rawViaSh = new ProcessBuilder(viaSh)
          .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD);
      rawViaSh.environment().clear();
      ProcessBuilder rawEcho = new ProcessBuilder(echoArgv).redirectError(Redirect.DISCARD);
      rawEcho.environment().clear();

      String openSession = sessions.withDeadlineAfter(30, TimeUnit.SECONDS)
          .createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();

      int rounds = o.warmup() + o.iterations();
      List<Series> series = new ArrayList<>();
      series.add(new Series("b", "raw nsjail /bin/true (ProcessBuilder+waitFor)", round -> {
        long t0 = System.nanoTime();
        Process p = rawTrue.start();
        p.getOutputStream().close();
        int exit = p.waitFor();
        long t = System.nanoTime() - t0;
        check(exit == 0, "raw nsjail /bin/true exited " + exit + ": " + readQuietly(rawLog));
        Files.deleteIfExists(rawLog);
        return t;
      }, rounds));
      series.add(new Series("b1", "raw via /bin/sh -c 'exec \"$@\"' (no cgroup)", round -> {
        long t0 = System.nanoTime();
        Process p = rawViaSh.start();
        p.getOutputStream().close();
        int exit = p.waitFor();
        long t = System.nanoTime() - t0;
        check(exit == 0, "sh nsjail /bin/true exited " + exit + ": " + readQuietly(rawLog));
        Files.deleteIfExists(rawLog);
        return t;
      }, rounds));
      series.add(new Series("cg", "cgroup create+kill+remove only (no process)", round -> {
        long t0 = System.nanoTime();
        Cgroup group = cgroups.create(cgroupBase + "/cg-" + round, groupLimits);
        group.killAll(linux);
        group.remove();
        return System.nanoTime() - t0;
      }, rounds));
      series.add(new Series("b2", "raw + sh wrapper + cgroup create/join/kill/rm", round -> {
        long t0 = System.nanoTime();
        Cgroup group = cgroups.create(cgroupBase + "/sh-" + round, groupLimits);
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", joinCgroupScript(group.procsFiles()), "paddock-jail"));
        cmd.addAll(trueArgv);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD);
        pb.environment().clear();
        Process p = pb.start();
        p.getOutputStream().close();
        int exit = p.waitFor();
        group.killAll(linux);
        group.remove();
        long t = System.nanoTime() - t0;
        check(exit == 0, "sh+cgroup nsjail /bin/true exited " + exit + ": " + readQuietly(rawLog));
        Files.deleteIfExists(rawLog);
        return t;
      }, rounds));
      series.add(new Series("l", "NsjailLauncher start+drain+await (no gRPC)", round -> {
        long t0 = System.nanoTime();
        SandboxProcess p = launcher.start(new SandboxRequest(List.of("/bin/true"), Map.of(), "", null, workspace, policy,
            cgroupBase + "/l-" + round));
        p.stdout().transferTo(java.io.OutputStream.nullOutputStream());
        p.stderr().transferTo(java.io.OutputStream.nullOutputStream());
        SandboxResult r = p.await();
        long t = System.nanoTime() - t0;
        check(r.status() == SandboxResult.Status.OK && r.exitCode() == 0, "launcher /bin/true: " + r);
        return t;
      }, rounds));
      series.add(new Series("g", "host: GetSession unary round trip", round -> {
        long t0 = System.nanoTime();
        String id = sessions.withDeadlineAfter(30, TimeUnit.SECONDS)
            .getSession(GetSessionRequest.newBuilder().setSessionId(openSession).build()).getSessionId();
        long t = System.nanoTime() - t0;
        check(id.equals(openSession), "GetSession answered another session");
        return t;
      }, rounds));
      Series startedPart = Series.part("d1", "  of which send -> ExecStarted event", "d", rounds);
      Series runPart = Series.part("d2", "  of which ExecStarted -> ExecResult event", "d", rounds);
      Series endPart = Series.part("d3", "  of which ExecResult -> end of stream", "d", rounds);
      series.add(new Series("d", "host: Exec /bin/true in an open session", round -> {
        long t0 = System.nanoTime();
        Iterator<ExecEvent> events = execs.withDeadlineAfter(30, TimeUnit.SECONDS).exec(trueRequest(openSession));
        long started = -1;
        long resulted = -1;
        ExecResult r = null;
        while (events.hasNext()) {
          ExecEvent e = events.next();
          if (e.hasStarted()) {
            started = System.nanoTime();
          } else if (e.hasResult()) {
            resulted = System.nanoTime();
            r = e.getResult();
          }
        }
        long t3 = System.nanoTime();
        checkOk(r, "host Exec /bin/true");
        check(started > 0, "host Exec /bin/true: no ExecStarted event");
        startedPart.samples[round] = started - t0;
        runPart.samples[round] = resulted - started;
        endPart.samples[round] = t3 - resulted;
        return t3 - t0;
      }, rounds));
      series.add(startedPart);
      series.add(runPart);
      series.add(endPart);
      Series createPart = Series.part("a1", "  of which CreateSession", "a", rounds);
      Series execPart = Series.part("a2", "  of which Exec /bin/true", "a", rounds);
      Series closePart = Series.part("a3", "  of which CloseSession", "a", rounds);
      series.add(new Series("a", "host: Create + Exec /bin/true + Close", round -> {
        long t0 = System.nanoTime();
        String id = sessions.withDeadlineAfter(30, TimeUnit.SECONDS)
            .createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
        long t1 = System.nanoTime();
        ExecResult r = toResult(execs.withDeadlineAfter(30, TimeUnit.SECONDS).exec(trueRequest(id)));
        long t2 = System.nanoTime();
        sessions.withDeadlineAfter(30, TimeUnit.SECONDS).closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build());
        long t3 = System.nanoTime();
        checkOk(r, "host Create+Exec+Close /bin/true");
        createPart.samples[round] = t1 - t0;
        execPart.samples[round] = t2 - t1;
        closePart.samples[round] = t3 - t2;
        return t3 - t0;
      }, rounds));
      series.add(createPart);
      series.add(execPart);
      series.add(closePart);
      series.add(new Series("c0", "raw nsjail echo hi: spawn to first stdout byte", round -> {
        long t0 = System.nanoTime();
        Process p = rawEcho.start();
        p.getOutputStream().close();
        InputStream stdout = p.getInputStream();
        int first = stdout.read();
        long t = System.nanoTime() - t0;
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        stdout.transferTo(rest);
        int exit = p.waitFor();
        String text = (first < 0 ? "" : String.valueOf((char) first)) + rest.toString(StandardCharsets.UTF_8);
        check(exit == 0 && text.equals("hi\n"), "raw nsjail echo hi: exit " + exit + ", output '" + text + "'");
        Files.deleteIfExists(rawLog);
        return t;
      }, rounds));
      series.add(new Series("c", "host: Exec echo hi to first OutputChunk", round -> {
        long t0 = System.nanoTime();
        Iterator<ExecEvent> events = execs.withDeadlineAfter(30, TimeUnit.SECONDS).exec(ExecRequest.newBuilder()
            .setSessionId(openSession).addArgv("echo").addArgv("hi").build());
        long t = -1;
        StringBuilder stdout = new StringBuilder();
        ExecResult result = null;
        while (events.hasNext()) {
          ExecEvent e = events.next();
          if (e.hasOutput()) {
            if (t < 0) {
              t = System.nanoTime() - t0;
            }
            if (e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT) {
              stdout.append(e.getOutput().getData().toStringUtf8());
            }
          } else if (e.hasResult()) {
            result = e.getResult();
          }
        }
        checkOk(result, "host Exec echo hi");
        check(t >= 0 && stdout.toString().equals("hi\n"), "host Exec echo hi printed '" + stdout + "'");
        return t;
      }, rounds));

      if (!o.only().isEmpty()) {
        series.removeIf(x -> !o.only().contains(x.group()));
        if (series.isEmpty()) {
          throw new IllegalArgumentException("--only matched no probe");
        }
      }
      out.printf(Locale.ROOT, "Paddock spawn benchmark: %d GetSession calls (JIT warm-up), then %d warm-up + %d measured "
          + "rounds; every probe once per round, order shuffled per round (seed %d)%n",
          o.jitWarmup(), o.warmup(), o.iterations(), o.seed());
      out.printf(Locale.ROOT, "machine: %d cpus, %s %s, %s %s; nsjail %s; host gRPC on 127.0.0.1:%d (TCP, plaintext)%n",
          Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), System.getProperty("os.version"),
          System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"), o.nsjail(), res.host.port());
      out.flush();

      // Spawns are slow, so 30 warm-up rounds run the host's Java code only a few hundred times: gRPC,
      // Netty and protobuf would still be interpreted. Cheap unary calls share most of that path.
      long jitStart = System.nanoTime();
      GetSessionRequest get = GetSessionRequest.newBuilder().setSessionId(openSession).build();
      for (int i = 0; i < o.jitWarmup(); i++) {
        sessions.withDeadlineAfter(30, TimeUnit.SECONDS).getSession(get);
      }
      if (o.jitWarmup() > 0) {
        System.err.printf(Locale.ROOT, "bench: JIT warm-up done (%d GetSession calls, %.1f s)%n", o.jitWarmup(),
            secondsSince(jitStart));
      }

      Random order = new Random(o.seed());
      List<Series> shuffled = new ArrayList<>(series);
      String loadBefore = loadAverage();
      CpuTicks cpuBefore = CpuTicks.now();
      long started = System.nanoTime();
      for (int round = 0; round < rounds; round++) {
        Collections.shuffle(shuffled, order);
        for (Series s : shuffled) {
          if (s.probe != null) {
            s.samples[round] = s.probe.once(round);
          }
        }
        if (round + 1 == o.warmup()) {
          System.err.printf(Locale.ROOT, "bench: warm-up done (%d rounds, %.1f s)%n", o.warmup(), secondsSince(started));
        } else if ((round + 1 - o.warmup()) > 0 && (round + 1 - o.warmup()) % 50 == 0) {
          System.err.printf(Locale.ROOT, "bench: %d/%d measured rounds (%.1f s)%n", round + 1 - o.warmup(), o.iterations(),
              secondsSince(started));
        }
      }
      double elapsed = secondsSince(started);
      CpuTicks cpuAfter = CpuTicks.now();

      Map<String, Stats> stats = new LinkedHashMap<>();
      for (Series s : series) {
        long[] measured = java.util.Arrays.copyOfRange(s.samples, o.warmup(), rounds);
        stats.put(s.key, Stats.of(measured));
      }
      report(out, series, stats, o, elapsed);
      out.printf(Locale.ROOT, "load average before: %s; after: %s%n", loadBefore, loadAverage());
      out.printf(Locale.ROOT, "CPU while measuring (all %d cpus = 100%%): this JVM and its nsjail children %.0f%%, "
          + "everything else (other processes, kernel threads, interrupts) %.0f%%%n",
          Runtime.getRuntime().availableProcessors(), cpuAfter.selfShare(cpuBefore), cpuAfter.otherShare(cpuBefore));
      if (o.samplesFile() != null) {
        writeSamples(o.samplesFile(), series, o.warmup());
        out.println("samples written to " + o.samplesFile());
      }
      sessions.withDeadlineAfter(30, TimeUnit.SECONDS)
          .closeSession(CloseSessionRequest.newBuilder().setSessionId(openSession).build());
      return 0;
    } finally {
      res.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down
      }
    }
  }

  private static void report(PrintStream out, List<Series> series, Map<String, Stats> stats, Options o, double elapsed) {
    out.println();
    out.printf(Locale.ROOT, "%-4s %-48s %8s %8s %8s %8s %8s %8s   (ms, n=%d)%n",
        "", "probe", "p50", "p90", "p99", "mean", "min", "max", o.iterations());
    List<Series> display = new ArrayList<>(series);
    display.sort(Comparator.comparingInt(s -> List.of("b", "b1", "cg", "b2", "l", "g", "d", "d1", "d2", "d3", "a", "a1", "a2", "a3", "c0", "c").indexOf(s.key)));
    for (Series s : display) {
      Stats st = stats.get(s.key);
      out.printf(Locale.ROOT, "%-4s %-48s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f%n", "(" + s.key + ")", s.label,
          ms(st.p50()), ms(st.p90()), ms(st.p99()), st.mean() / 1e6, ms(st.min()), ms(st.max()));
    }
    Stats a = stats.get("a");
    Stats b = stats.get("b");
    Stats c = stats.get("c");
    Stats d = stats.get("d");
    out.println();
    if (a != null && b != null) {
      double ab50 = (double) a.p50() / b.p50();
      out.printf(Locale.ROOT, "ratio (a)/(b) p50 = %.2f   target <= %.1f   %s%n", ab50, TARGET_OVERHEAD_P50,
          ab50 <= TARGET_OVERHEAD_P50 ? "PASS" : "MISS");
      out.printf(Locale.ROOT, "ratio (a)/(b) p99 = %.2f%n", (double) a.p99() / b.p99());
    }
    if (d != null && b != null) {
      out.printf(Locale.ROOT, "ratio (d)/(b) p50 = %.2f   p99 = %.2f   (exec only, for context)%n",
          (double) d.p50() / b.p50(), (double) d.p99() / b.p99());
    }
    if (c != null) {
      out.printf(Locale.ROOT, "first output byte (c) p50 = %.2f ms   target <= %.0f ms   %s%n", ms(c.p50()),
          TARGET_FIRST_BYTE_P50_MS, ms(c.p50()) <= TARGET_FIRST_BYTE_P50_MS ? "PASS" : "MISS");
    }
    out.printf(Locale.ROOT, "(targets are informational; measured phase took %.1f s)%n", elapsed);
  }

  private static void writeSamples(Path file, List<Series> series, int warmup) throws IOException {
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      StringBuilder header = new StringBuilder("round");
      for (Series s : series) {
        header.append(',').append(s.key);
      }
      w.println(header);
      for (int r = warmup; r < series.get(0).samples.length; r++) {
        StringBuilder line = new StringBuilder(Integer.toString(r - warmup));
        for (Series s : series) {
          line.append(',').append(String.format(Locale.ROOT, "%.3f", ms(s.samples[r])));
        }
        w.println(line);
      }
    }
  }

  private static ExecRequest trueRequest(String sessionId) {
    return ExecRequest.newBuilder().setSessionId(sessionId).addArgv("/bin/true").build();
  }

  /** Reads an Exec stream to its end; returns its result event. */
  private static ExecResult toResult(Iterator<ExecEvent> events) {
    ExecResult result = null;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasResult()) {
        result = e.getResult();
      }
    }
    return result;
  }

  private static void checkOk(ExecResult r, String what) {
    check(r != null, what + ": the stream ended without a result");
    check(r.getStatus() == ExecStatus.EXEC_STATUS_OK && r.getExitCode() == 0,
        what + ": " + r.getStatus() + " exit " + r.getExitCode() + " " + r.getReason());
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }

  /** The launcher's own wrapper: join every hierarchy's group, then exec nsjail ("$@"). */
  private static String joinCgroupScript(List<Path> procsFiles) {
    StringBuilder script = new StringBuilder();
    for (Path f : procsFiles) {
      script.append("echo $$ > '").append(f).append("' && ");
    }
    return script.append("exec \"$@\"").toString();
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * Busy ticks of the whole machine (/proc/stat) and of this process with its reaped children
   * (/proc/self/stat utime+stime+cutime+cstime), to tell whether something else competed for CPU.
   */
  private record CpuTicks(long total, long busy, long self) {
    static CpuTicks now() {
      try {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < cpu.length && i <= 8; i++) {
          total += Long.parseLong(cpu[i]);
        }
        long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // after "(comm) ": f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17
        long self = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return new CpuTicks(total, total - idle, self);
      } catch (IOException | RuntimeException e) {
        return new CpuTicks(0, 0, 0);
      }
    }

    double selfShare(CpuTicks before) {
      long dt = total - before.total;
      return dt <= 0 ? Double.NaN : 100.0 * (self - before.self) / dt;
    }

    double otherShare(CpuTicks before) {
      long dt = total - before.total;
      return dt <= 0 ? Double.NaN : 100.0 * Math.max(0, (busy - before.busy) - (self - before.self)) / dt;
    }
  }

  private static String shellQuote(String arg) {
    return arg.matches("[A-Za-z0-9_./:=,+-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double secondsSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Everything the run creates, released once (normally or from the shutdown hook). */
  private static final class Resources {
    private final Path work;
    private final String cgroupBase;
    private final AtomicBoolean closed = new AtomicBoolean();
    volatile RuntimeServer host;
    volatile ManagedChannel channel;
    volatile NsjailLauncher launcher;
    volatile String tenantCgroup;

    Resources(Path work, String cgroupBase) {
      this.work = work;
      this.cgroupBase = cgroupBase;
    }

    void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      if (channel != null) {
        channel.shutdownNow();
        try {
          channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (host != null) {
        host.close();
      }
      if (launcher != null) {
        launcher.removeCgroups(cgroupBase);
        if (tenantCgroup != null) {
          launcher.removeCgroups(tenantCgroup);
        }
      }
      deleteTree(work);
    }

    private static void deleteTree(Path dir) {
      try (var walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            System.err.println("bench: cannot delete " + p + ": " + e.getMessage());
          }
        });
      } catch (IOException e) {
        System.err.println("bench: cannot delete " + dir + ": " + e.getMessage());
      }
    }
  }
}
