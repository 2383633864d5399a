package dev.paddock.bench;

import com.google.protobuf.util.Durations;
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
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import dev.paddock.sandbox.jail.JailConfig;
import dev.paddock.sandbox.jail.JailLauncher;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.lang.ProcessBuilder.Redirect;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Benchmark of live session jails (one nsjail per session, paddock-init as its PID 1), side by
 * side with a raw nsjail baseline, in one JVM and one run:
 *
 * <ol>
 *   <li>(b) baseline: {@code nsjail --config <file>} running {@code /bin/true}, the file being the
 *       config a session jail gets ({@link JailLauncher#baselineConfigText}: same namespaces,
 *       mounts, rlimits and seccomp policy; /bin/true instead of paddock-init), ProcessBuilder
 *       start + waitFor;
 *   <li>(d) Exec {@code /bin/true} in a live session, over gRPC on a loopback TCP port of a real
 *       host ({@link RuntimeServer}), stream read to its end;
 *   <li>(c) Exec {@code echo hi} in a live session: sending the call until the first OutputChunk;
 *   <li>(a) CreateSession + Exec {@code /bin/true} + CloseSession, paced so that the tenant's
 *       ready jail (refilled in the background after each create) is back before each round;
 *   <li>(g) a GetSession round trip, for the share of gRPC itself, and (p) a plain /bin/true
 *       started from Java without any jail, for the cost of a process spawn on this machine (an
 *       upper bound: ProcessBuilder starts its jspawnhelper, which then execs /bin/true);
 *   <li>(m) N idle sessions open at once: host heap growth, the jails' resident memory and the
 *       tenant cgroup's memory usage, per session.
 *   <li>(e) (d) with the session layer's two exec audit records switched off for that call, so
 *       what audit adds to an exec is measured beside it.
 *   <li>Floors of (d), parts no implementation of it can skip: (f) one record-sized append and
 *       fsync on the host's data directory (the audit log wants an exec's start record durable
 *       before the program runs and its end record before the result), (h) a bare grpc-java unary call over loopback TCP (a health check: no Paddock
 *       service, interceptor or key), and d4, the jailed {@code /bin/true}'s own CPU time from
 *       init's rusage. Their p50s add up to the lines "floor of (d)" and, with the create's and the
 *       close's call and record, "floor of (a)".
 * </ol>
 *
 * Each round runs (a), then the pause, then (b), (d), (e), (c), (g), (p), (f), (h) in a freshly shuffled order, so drift
 * hits all of them alike. Needs root (cgroups) and nsjail. Exits 0 whether or not targets are met,
 * 1 if a probe fails (wrong exit or output), 2 on bad usage / not root / no nsjail.
 */
public final class SessionBench {
  private static final int SANDBOX_ID = 99999;
  /** Bytes of one (f) append: about an exec-start record's frame. */
  private static final int RECORD_BYTES = 300;
  private static final double TARGET_EXEC_MS = 2.0;
  private static final double TARGET_EXEC_RATIO = 0.15;
  private static final double TARGET_FIRST_BYTE_MS = 2.0;
  private static final double TARGET_CREATE_MS = 5.0;
  private static final double TARGET_CREATE_RATIO = 0.3;
  private static final long TARGET_HEAP_PER_SESSION = 1L << 20;
  private static final double TARGET_IPC_MS = 0.2;
  private static final int IPC_WARMUP = 1000;
  /** Opening idle sessions stops early past this, or when the machine runs low on memory. */
  private static final long IDLE_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(100);
  private static final long MIN_AVAILABLE_BYTES = 2L << 30;

  private SessionBench() {}

  /** Command-line options. */
  record Options(int warmup, int iterations, int idleSessions, int jitWarmup, int jitWarmupCycles, long pauseMillis,
      Path nsjail, Path workBase, long seed, int ipcIterations, int busySessions, int busySeconds) {
    static Options parse(String[] args) {
      int warmup = 20;
      int iterations = 200;
      int idle = 500;
      int jit = 3000;
      int jitCycles = 1000;
      long pause = 150;
      String nsjail = null;
      String workBase = "/tmp";
      long seed = 42;
      int ipc = 5000;
      int busy = 2 * Runtime.getRuntime().availableProcessors();
      int busySeconds = 10;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--warmup" -> warmup = Integer.parseInt(value(args, ++i, a));
          case "--iterations" -> iterations = Integer.parseInt(value(args, ++i, a));
          case "--idle-sessions" -> idle = Integer.parseInt(value(args, ++i, a));
          case "--jit-warmup" -> jit = Integer.parseInt(value(args, ++i, a));
          case "--jit-warmup-cycles" -> jitCycles = Integer.parseInt(value(args, ++i, a));
          case "--pause-ms" -> pause = Long.parseLong(value(args, ++i, a));
          case "--nsjail" -> nsjail = value(args, ++i, a);
          case "--work-dir" -> workBase = value(args, ++i, a);
          case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
          case "--ipc-iterations" -> ipc = Integer.parseInt(value(args, ++i, a));
          case "--busy-sessions" -> busy = Integer.parseInt(value(args, ++i, a));
          case "--busy-seconds" -> busySeconds = Integer.parseInt(value(args, ++i, a));
          case "-h", "--help" -> {
            System.out.println(String.join("\n",
                "usage: scripts/bench [--warmup N] [--iterations N] [--idle-sessions N] [options]",
                "  --warmup N         rounds run and discarded first (default 20)",
                "  --iterations N     measured rounds (default 200)",
                "  --idle-sessions N  idle sessions opened at once for the memory figures (default 500; 0 skips)",
                "  --jit-warmup N     Exec /bin/true calls made before any round, so the JIT has compiled the",
                "                     host's gRPC and exec path (default 3000; 0 measures a freshly started host)",
                "  --jit-warmup-cycles N  then N unpaced CreateSession + Exec + CloseSession cycles, each with a",
                "                     GetSession and an Exec of echo, so their paths are compiled too (default 1000)",
                "  --pause-ms N       pause after each create+exec+close, untimed, so the tenant's ready jail",
                "                     is refilled before the next round (default 150)",
                "  --nsjail PATH      nsjail binary (default $PADDOCK_NSJAIL, else <root>/.paddock/tools/nsjail/nsjail/bin/nsjail)",
                "  --work-dir DIR     where the temporary data directory goes (default /tmp; its parents need o+x)",
                "  --seed N           seed of the per-round probe order (default 42)",
                "  --ipc-iterations N IPC round trips timed per series, after 1000 warm-up ones (default 5000; 0 skips)",
                "  --busy-sessions N  sessions each running Exec /bin/true back to back, all at once, for the",
                "                     throughput and CPU-per-exec figures (default 2 per cpu; 0 skips)",
                "  --busy-seconds N   how long they run (default 10)"));
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown argument: " + a + " (try --help)");
        }
      }
      if (warmup < 0 || iterations < 1 || idle < 0 || jit < 0 || jitCycles < 0 || pause < 0 || ipc < 0 || busy < 0
          || busySeconds < 1) {
        throw new IllegalArgumentException("need --iterations >= 1, --busy-seconds >= 1 and non-negative --warmup,"
            + " --idle-sessions, --jit-warmup, --jit-warmup-cycles, --pause-ms, --ipc-iterations, --busy-sessions");
      }
      return new Options(warmup, iterations, idle, jit, jitCycles, pause, nsjailPath(nsjail),
          Path.of(workBase).toAbsolutePath(), seed, ipc, busy, busySeconds);
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

  public static void main(String[] args) {
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
      code = new SessionBench().run(options, System.out);
    } catch (Exception e) {
      System.err.println("bench: FAILED: " + e);
      e.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }

  // ---- one run --------------------------------------------------------------------------------

  private int run(Options o, PrintStream out) throws Exception {
    Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    if (!Integer.valueOf(0).equals(uid)) {
      System.err.println("bench: needs root (the host creates cgroups and runs nsjail); uid is " + uid);
      return 2;
    }
    if (!Files.isExecutable(o.nsjail())) {
      System.err.println("bench: nsjail not found at " + o.nsjail() + " (run scripts/setup, or set PADDOCK_NSJAIL)");
      return 2;
    }
    long runStart = System.nanoTime();
    Path work = Files.createTempDirectory(o.workBase(), "paddock-bench-");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    Resources res = new Resources(work);
    Thread hook = new Thread(res::close, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Machine.describe(out, o.nsjail());

      // --- the baseline: a session jail's nsjail config, running /bin/true, no control descriptor
      Path rawDir = work.resolve("raw");
      Files.createDirectories(rawDir);
      Files.setPosixFilePermissions(rawDir, PosixFilePermissions.fromString("rwx------"));
      Path rawLog = rawDir.resolve("nsjail.log");
      Path rawConfig = rawDir.resolve("baseline.cfg");
      SessionSettings settings = SessionSettings.defaults();
      // The init path is only named in a session jail's config; the baseline runs /bin/true instead.
      JailConfig jailConfig = new JailConfig(o.nsjail(), Path.of("/bin/true"), rawDir, SANDBOX_ID, SANDBOX_ID);
      Files.writeString(rawConfig, JailLauncher.baselineConfigText(jailConfig, DefaultPolicies.tool(),
          new WorkspaceLimits(settings.workspaceBytes(), settings.workspaceInodes()), rawLog), StandardCharsets.UTF_8);
      ProcessBuilder raw = new ProcessBuilder(o.nsjail().toString(), "--config", rawConfig.toString())
          .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD);
      raw.environment().clear();
      ProcessBuilder plainTrue = new ProcessBuilder("/bin/true").redirectOutput(Redirect.DISCARD)
          .redirectError(Redirect.DISCARD);
      plainTrue.environment().clear();

      // --- the host, built as `paddock serve` builds it, on a loopback port chosen by the kernel
      Path hostData = work.resolve("host");
      Files.createDirectories(hostData);
      Files.setPosixFilePermissions(hostData, PosixFilePermissions.fromString("rwx--x--x"));
      String tenant = "bench-" + HexFormat.of().toHexDigits((int) System.nanoTime());
      Path tenantsFile = hostData.resolve("tenants.yaml");
      String apiKey = new TenantAdmin(tenantsFile, Clock.systemUTC()).rotateKey(tenant, "bench").key();
      int maxSessions = Math.max(o.idleSessions() + 10, 100);
      TenantsFile.Document doc = TenantsFile.read(tenantsFile);
      for (TenantsFile.TenantEntry t : doc.tenants) {
        if (t.id.equals(tenant)) {
          t.maxSessions = maxSessions;
        }
      }
      TenantsFile.write(tenantsFile, doc);
      CgroupLayout layout = CgroupLayout.forDataDir(hostData);
      res.hostCgroup = layout.hostRoot();
      Path tenantMemory = Machine.memoryGroup(layout.tenant(tenant));
      res.host = RuntimeServer.start(new HostConfig(new InetSocketAddress("127.0.0.1", 0), hostData, o.nsjail(),
          SANDBOX_ID, SANDBOX_ID, Machine.CGROUP_ROOT, settings)
          .withPythonProtobuf(Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize()
              .resolve(".paddock/tools/python-protobuf")), Clock.systemUTC());
      Metadata auth = new Metadata();
      auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
      res.channel = NettyChannelBuilder.forAddress("127.0.0.1", res.host.port()).usePlaintext()
          .intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
      Client client = new Client(res.channel);
      out.printf(Locale.ROOT, "host: RuntimeServer on 127.0.0.1:%d (gRPC, TCP, plaintext), default session settings;"
          + " tenant %s with maxSessions %d%n", res.host.port(), tenant, maxSessions);

      String live = client.create();
      long jitStart = System.nanoTime();
      for (int i = 0; i < o.jitWarmup(); i++) {
        checkOk(client.execToEnd(live, "/bin/true").result, "JIT warm-up exec");
      }
      if (o.jitWarmup() > 0) {
        out.printf(Locale.ROOT, "JIT warm-up: %d Exec /bin/true calls in the live session (%.1f s), not measured%n",
            o.jitWarmup(), secondsSince(jitStart));
      }
      // A host that has served for a while has compiled its create and close paths too, not only
      // the exec's: without this, (a) and (g) measure code the JIT has barely started on.
      long cyclesStart = System.nanoTime();
      for (int i = 0; i < o.jitWarmupCycles(); i++) {
        String id = client.create();
        checkOk(client.execToEnd(id, "/bin/true").result, "JIT warm-up cycle exec");
        client.close(id);
        client.get(live);
        checkOk(client.execToEnd(live, "echo", "hi").result, "JIT warm-up echo");
      }
      if (o.jitWarmupCycles() > 0) {
        out.printf(Locale.ROOT, "JIT warm-up: %d CreateSession + Exec + CloseSession cycles, each with a GetSession and an"
            + " Exec of echo (%.1f s), not measured%n", o.jitWarmupCycles(), secondsSince(cyclesStart));
      }

      // --- latency rounds
      int rounds = o.warmup() + o.iterations();
      long[] baseline = new long[rounds];
      long[] exec = new long[rounds];
      long[] execToStarted = new long[rounds];
      long[] execStartedToResult = new long[rounds];
      long[] execJail = new long[rounds];
      long[] execCpu = new long[rounds];
      long[] durableAppend = new long[rounds];
      long[] bareUnary = new long[rounds];
      long[] firstByte = new long[rounds];
      long[] unary = new long[rounds];
      long[] plain = new long[rounds];
      long[] execUnaudited = new long[rounds];
      long[] cycle = new long[rounds];
      long[] cycleCreate = new long[rounds];
      long[] cycleExec = new long[rounds];
      long[] cycleClose = new long[rounds];
      int[] poolNotReady = new int[1];
      List<Runnable> probes = new ArrayList<>();
      int[] round = new int[1];
      probes.add(() -> {
        long t0 = System.nanoTime();
        int exit;
        try {
          Process p = raw.start();
          p.getOutputStream().close();
          exit = p.waitFor();
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException("raw nsjail did not run: " + e, e);
        }
        baseline[round[0]] = System.nanoTime() - t0;
        check(exit == 0, "raw nsjail /bin/true exited " + exit + ": " + readQuietly(rawLog));
        deleteQuietly(rawLog);
      });
      probes.add(() -> {
        Timed t = client.execToEnd(live, "/bin/true");
        checkOk(t.result, "Exec /bin/true in the live session");
        exec[round[0]] = t.end - t.sent;
        execToStarted[round[0]] = t.started - t.sent;
        execStartedToResult[round[0]] = t.resulted - t.started;
        execJail[round[0]] = t.wallNanos();
        execCpu[round[0]] = t.cpuNanos();
      });
      // (f): what one durable record costs on this disk, in the bench's rhythm (the disk has sat
      // idle through whatever ran before, as it has before an exec's start record).
      RandomAccessFile appendFile = res.appendFile(hostData.resolve("bench-durable-append"));
      byte[] record = new byte[RECORD_BYTES];
      probes.add(() -> {
        long t0 = System.nanoTime();
        try {
          appendFile.write(record);
          appendFile.getFD().sync();
        } catch (IOException e) {
          throw new IllegalStateException("append + fsync failed: " + e, e);
        }
        durableAppend[round[0]] = System.nanoTime() - t0;
      });
      // (h): gRPC's own round trip on this loopback, with nothing of Paddock's on either side.
      HealthGrpc.HealthBlockingStub bare = res.bareHealth();
      for (int i = 0; i < o.jitWarmup(); i++) { // its own handler and channel, compiled like the host's
        bare.check(HealthCheckRequest.getDefaultInstance());
      }
      probes.add(() -> {
        long t0 = System.nanoTime();
        HealthCheckResponse.ServingStatus status = bare.check(HealthCheckRequest.getDefaultInstance()).getStatus();
        bareUnary[round[0]] = System.nanoTime() - t0;
        check(status == HealthCheckResponse.ServingStatus.SERVING, "the bare gRPC server answered " + status);
      });
      // (e): the same exec with the session layer's two exec records (start, before the spawn; end,
      // before the result) switched off for this one call, so what they cost is measured side by
      // side. The audit interceptor still runs; Exec writes no record of its own there.
      var execRunner = res.host.sessions().execRunner();
      probes.add(() -> {
        execRunner.audit(dev.paddock.runtime.session.ExecAudit.NONE);
        try {
          Timed t = client.execToEnd(live, "/bin/true");
          checkOk(t.result, "Exec /bin/true in the live session, exec records off");
          execUnaudited[round[0]] = t.end - t.sent;
        } finally {
          execRunner.audit(res.host.auditTrail());
        }
      });
      probes.add(() -> {
        Timed t = client.execToEnd(live, "echo", "hi");
        checkOk(t.result, "Exec echo hi in the live session");
        check(t.firstOutput > 0 && t.stdout.equals("hi\n"), "Exec echo hi printed '" + t.stdout + "'");
        firstByte[round[0]] = t.firstOutput - t.sent;
      });
      probes.add(() -> {
        long t0 = System.nanoTime();
        int exit;
        try {
          Process p = plainTrue.start();
          p.getOutputStream().close();
          exit = p.waitFor();
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException("/bin/true did not run: " + e, e);
        }
        plain[round[0]] = System.nanoTime() - t0;
        check(exit == 0, "/bin/true exited " + exit);
      });
      probes.add(() -> {
        long t0 = System.nanoTime();
        String id = client.get(live);
        unary[round[0]] = System.nanoTime() - t0;
        check(id.equals(live), "GetSession answered another session");
      });

      out.printf(Locale.ROOT, "rounds: %d warm-up + %d measured; each round: create+exec+close, a %d ms pause"
          + " (untimed, lets the tenant's ready jail refill), then raw nsjail, exec, exec with records off, first byte,"
          + " GetSession, plain /bin/true, durable append, bare gRPC call in shuffled order"
          + " (seed %d)%n", o.warmup(), o.iterations(), o.pauseMillis(), o.seed());
      out.flush();
      Random order = new Random(o.seed());
      String loadBefore = Machine.loadAverage();
      Machine.CpuTicks cpuBefore = Machine.CpuTicks.now(layout.hostRoot());
      long roundsStart = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        round[0] = r;
        if (readySessionJails(tenantMemory) < 2) {
          poolNotReady[0] += r >= o.warmup() ? 1 : 0;
        }
        long t0 = System.nanoTime();
        String id = client.create();
        long t1 = System.nanoTime();
        Timed t = client.execToEnd(id, "/bin/true");
        long t2 = System.nanoTime();
        client.close(id);
        long t3 = System.nanoTime();
        checkOk(t.result, "create+exec+close: Exec /bin/true");
        cycle[r] = t3 - t0;
        cycleCreate[r] = t1 - t0;
        cycleExec[r] = t2 - t1;
        cycleClose[r] = t3 - t2;
        Thread.sleep(o.pauseMillis());
        Collections.shuffle(probes, order);
        probes.forEach(Runnable::run);
        if (r + 1 == o.warmup()) {
          System.err.printf(Locale.ROOT, "bench: warm-up done (%d rounds, %.1f s)%n", o.warmup(), secondsSince(roundsStart));
        } else if (r + 1 > o.warmup() && (r + 1 - o.warmup()) % 50 == 0) {
          System.err.printf(Locale.ROOT, "bench: %d/%d measured rounds (%.1f s)%n", r + 1 - o.warmup(), o.iterations(),
              secondsSince(roundsStart));
        }
      }
      double roundsSeconds = secondsSince(roundsStart);
      Machine.CpuTicks cpuAfter = Machine.CpuTicks.now(layout.hostRoot());
      String loadAfter = Machine.loadAverage();
      IpcBench.Result ipc = null;
      if (o.ipcIterations() > 0) {
        long ipcStart = System.nanoTime();
        ipc = IpcBench.run(client.execs, live, IPC_WARMUP, o.ipcIterations(),
            Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize().resolve("bench/target/native/ipc-echo"));
        System.err.printf(Locale.ROOT, "bench: IPC round trips done (%.1f s)%n", secondsSince(ipcStart));
      }
      client.close(live);

      // --- busy sessions: throughput, and the CPU one exec costs
      BusyResult busy = o.busySessions() > 0 ? busySessions(o.busySessions(), o.busySeconds(), client, layout) : null;

      // --- idle sessions
      IdleResult idle = o.idleSessions() > 0 ? idleSessions(o.idleSessions(), client, layout, tenant, tenantMemory) : null;

      // --- report
      int from = o.warmup();
      Stats b = stats(baseline, from);
      List<Row> rows = new ArrayList<>();
      rows.add(Row.latency("(b) baseline: raw nsjail /bin/true, session-jail config", b, null, "-", null, null));
      Stats d = stats(exec, from);
      rows.add(Row.latency("(d) Exec /bin/true in a live session (gRPC)", d, b, "<= 2 ms, <= 0.15x",
          TARGET_EXEC_MS, TARGET_EXEC_RATIO));
      rows.add(Row.latency("    d1: send until ExecStarted", stats(execToStarted, from), b, "", null, null));
      rows.add(Row.latency("    d2: ExecStarted until ExecResult", stats(execStartedToResult, from), b, "", null, null));
      rows.add(Row.latency("    d3: in the host: Spawn sent until Exited (wall_time)", stats(execJail, from), b, "", null,
          null));
      Stats programCpu = stats(execCpu, from);
      rows.add(Row.latency("    d4: the jailed /bin/true's own CPU (init's rusage)", programCpu, b, "", null, null));
      Stats e = stats(execUnaudited, from);
      rows.add(Row.latency("(e) (d) with its two exec audit records off", e, b, "", null, null));
      rows.add(Row.latency("(c) first output byte of echo hi (gRPC)", stats(firstByte, from), b, "<= 2 ms",
          TARGET_FIRST_BYTE_MS, null));
      Stats cycleStats = stats(cycle, from);
      rows.add(Row.latency("(a) CreateSession + Exec /bin/true + Close", cycleStats, b, "<= 5 ms, <= 0.3x",
          TARGET_CREATE_MS, TARGET_CREATE_RATIO));
      rows.add(Row.latency("    a1: CreateSession", stats(cycleCreate, from), b, "", null, null));
      rows.add(Row.latency("    a2: Exec /bin/true (first of the session)", stats(cycleExec, from), b, "", null, null));
      rows.add(Row.latency("    a3: CloseSession", stats(cycleClose, from), b, "", null, null));
      rows.add(Row.latency("(g) GetSession unary round trip (no jail work)", stats(unary, from), b, "", null, null));
      rows.add(Row.latency("(p) plain /bin/true, no jail (ProcessBuilder: helper+exec)", stats(plain, from), b, "", null,
          null));
      Stats append = stats(durableAppend, from);
      rows.add(Row.latency("(f) floor: " + RECORD_BYTES + " B append + fsync, host's data dir", append, b, "", null, null));
      Stats bareCall = stats(bareUnary, from);
      rows.add(Row.latency("(h) floor: bare grpc-java unary call (health check)", bareCall, b, "", null, null));
      if (ipc != null) {
        rows.addAll(IpcBench.rows(ipc, TARGET_IPC_MS));
      }
      if (busy != null) {
        rows.add(Row.latency(busy.label(), busy.latency(), b, "", null, null));
      }
      if (idle != null) {
        rows.addAll(idle.rows());
      }
      out.println();
      printTable(out, rows, o.iterations());
      out.println();
      out.printf(Locale.ROOT, "audit on: exec p50 %.3f ms with its records, %.3f ms without: %+.1f%% (target: <= +10%%: %s)%n",
          ms(d.p50()), ms(e.p50()), 100.0 * (d.p50() - e.p50()) / e.p50(),
          d.p50() <= 1.10 * e.p50() ? "MET" : "MISSED");
      // Sums of medians, so estimates: what an exec cannot do without (one gRPC call, its start
      // and end records, the program itself), and for (a) also the create's and the close's call
      // and record. Everything else an exec does (frames to and from init, pipes, the fork and
      // exit around the program, the host's hand-offs) comes on top.
      printFloor(out, "(d)", 1, 2, bareCall, append, programCpu, b, TARGET_EXEC_RATIO, d);
      printFloor(out, "(a)", 3, 4, bareCall, append, programCpu, b, TARGET_CREATE_RATIO, cycleStats);
      out.printf(Locale.ROOT, "latency rounds took %.1f s; load average before %s, after %s%n", roundsSeconds, loadBefore,
          loadAfter);
      out.printf(Locale.ROOT, "CPU while measuring (all %d cpus = 100%%): this JVM, its nsjail runs and its jails %.0f%%;"
          + " everything else (other processes, kernel threads, interrupts) %.0f%%%n",
          Runtime.getRuntime().availableProcessors(), cpuAfter.ownShare(cpuBefore), cpuAfter.otherShare(cpuBefore));
      out.printf(Locale.ROOT, "(a) pacing: %d ms untimed pause after each create+exec+close; before %d of %d measured"
          + " rounds the tenant's ready jail was not yet up (fewer than 2 session cgroups with processes)%n",
          o.pauseMillis(), poolNotReady[0], o.iterations());
      if (ipc != null) {
        out.printf(Locale.ROOT, "(i) IPC: %d round trips per series after %d warm-up ones, timed inside the calling Python"
            + " process (perf_counter_ns); x base of (i) rows is against the one-CPU host socketpair floor, not raw nsjail%n",
            o.ipcIterations(), IPC_WARMUP);
      }
      if (busy != null) {
        out.println(busy.note());
      }
      if (idle != null) {
        idle.notes().forEach(out::println);
      }

      // --- teardown: close the host, then check that nothing of it is left
      res.closeHostAndChannel();
      List<String> left = leftovers(layout.hostRoot());
      if (left.isEmpty()) {
        out.println("after host close: no jail processes, no cgroups of this host left (" + layout.hostRoot() + " removed)");
      } else {
        out.println("after host close: LEFT OVER: " + String.join("; ", left));
      }
      out.printf(Locale.ROOT, "total run %.1f s%n", secondsSince(runStart));
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

  // ---- busy sessions ----------------------------------------------------------------------

  /** What the busy sessions found: their exec latency under load, and one line of throughput and CPU. */
  private record BusyResult(String label, Stats latency, String note) {}

  /**
   * {@code n} sessions, one thread each, run Exec /bin/true back to back for {@code seconds}: how
   * many execs the host completes per second with every cpu busy, and the CPU one costs (this JVM,
   * its nsjail runs and its jails, from /proc and the host's cpuacct group), hence how many a core
   * serves per second. The sizing guide turns that into sessions per core.
   */
  private BusyResult busySessions(int n, int seconds, Client client, CgroupLayout layout) throws Exception {
    List<String> ids = new ArrayList<>();
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(n, r -> {
      Thread t = new Thread(r, "bench-busy");
      t.setDaemon(true);
      return t;
    });
    try {
      for (int i = 0; i < n; i++) {
        ids.add(client.create());
      }
      for (String id : ids) { // each session's jail is up and warm before the clock starts
        checkOk(client.execToEnd(id, "/bin/true").result, "busy session warm-up exec");
      }
      java.util.concurrent.ConcurrentLinkedQueue<long[]> samples = new java.util.concurrent.ConcurrentLinkedQueue<>();
      Machine.CpuTicks before = Machine.CpuTicks.now(layout.hostRoot());
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      List<java.util.concurrent.Future<?>> loops = new ArrayList<>();
      for (String id : ids) {
        loops.add(threads.submit(() -> {
          List<Long> mine = new ArrayList<>();
          while (System.nanoTime() < end) {
            Timed t = client.execToEnd(id, "/bin/true");
            checkOk(t.result, "busy session Exec /bin/true");
            mine.add(t.end - t.sent);
          }
          samples.add(mine.stream().mapToLong(Long::longValue).toArray());
          return null;
        }));
      }
      for (var loop : loops) {
        loop.get();
      }
      double elapsed = secondsSince(start);
      Machine.CpuTicks after = Machine.CpuTicks.now(layout.hostRoot());
      long[] all = samples.stream().flatMapToLong(java.util.Arrays::stream).toArray();
      int cpus = Runtime.getRuntime().availableProcessors();
      double cpuSeconds = after.ownShare(before) / 100.0 * cpus * elapsed;
      double cpuMsPerExec = 1000.0 * cpuSeconds / all.length;
      String note = String.format(Locale.ROOT, "(t) %d busy sessions, Exec /bin/true back to back for %.1f s: %d execs, %.0f"
          + " per second on %d cpus (%.0f%% of them used by this JVM, its nsjail runs and its jails; %.0f%% by anything"
          + " else); %.2f ms of CPU per exec, so one core serves about %.0f execs per second", n, elapsed, all.length,
          all.length / elapsed, cpus, after.ownShare(before), after.otherShare(before), cpuMsPerExec, 1000.0 / cpuMsPerExec);
      return new BusyResult("(t) Exec /bin/true, " + n + " sessions at once (gRPC)", stats(all, 0), note);
    } finally {
      threads.shutdownNow();
      for (String id : ids) {
        client.close(id);
      }
    }
  }

  // ---- idle sessions ----------------------------------------------------------------------

  /** What opening the idle sessions found. */
  record IdleResult(List<Row> rows, List<String> notes) {}

  private IdleResult idleSessions(int wanted, Client client, CgroupLayout layout, String tenant, Path tenantMemory)
      throws Exception {
    long heapBefore = usedHeapAfterGc();
    long hostRssBefore = Machine.vmRss(ProcessHandle.current().pid());
    long tenantBefore = Machine.memoryUsage(tenantMemory);
    List<String> ids = new ArrayList<>();
    String stopped = null;
    long start = System.nanoTime();
    long[] createTimes = new long[wanted];
    for (int i = 0; i < wanted; i++) {
      if (System.nanoTime() - start > IDLE_BUDGET_NANOS) {
        stopped = "stopped after " + TimeUnit.NANOSECONDS.toSeconds(IDLE_BUDGET_NANOS) + " s (time budget)";
        break;
      }
      if (Machine.memAvailable() < MIN_AVAILABLE_BYTES) {
        stopped = "stopped: less than " + (MIN_AVAILABLE_BYTES >> 30) + " GiB of memory available";
        break;
      }
      long t0 = System.nanoTime();
      try {
        ids.add(client.create());
      } catch (StatusRuntimeException e) {
        stopped = "stopped: CreateSession failed: " + e.getStatus();
        break;
      }
      createTimes[i] = System.nanoTime() - t0;
    }
    double openSeconds = secondsSince(start);
    int n = ids.size();
    Thread.sleep(500); // the ready jail refilled after the last create comes up
    long heapAfter = usedHeapAfterGc();
    long hostRssAfter = Machine.vmRss(ProcessHandle.current().pid());
    long tenantAfter = Machine.memoryUsage(tenantMemory);
    long rss = 0;
    long pss = 0;
    int processes = 0;
    int withoutProcesses = 0;
    java.util.Map<String, long[]> byProgram = new java.util.TreeMap<>();
    for (String id : ids) {
      List<Long> pids = Machine.pids(Machine.memoryGroup(layout.session(tenant, id)));
      if (pids.isEmpty()) {
        withoutProcesses++;
      }
      for (long pid : pids) {
        long r = Machine.vmRss(pid);
        long p = Machine.pss(pid);
        rss += r;
        pss += p;
        processes++;
        long[] sums = byProgram.computeIfAbsent(Machine.comm(pid), k -> new long[3]);
        sums[0]++;
        sums[1] += r;
        sums[2] += p;
      }
    }
    long closeStart = System.nanoTime();
    for (String id : ids) {
      client.close(id);
    }
    double closeSeconds = secondsSince(closeStart);
    long goneStart = System.nanoTime();
    int remaining;
    while (true) {
      // What stays is the tenant's one ready jail.
      remaining = Math.max(0, Machine.children(tenantMemory).size() - 1);
      if (remaining == 0 || System.nanoTime() - goneStart > TimeUnit.SECONDS.toNanos(60)) {
        break;
      }
      Thread.sleep(50);
    }
    double goneSeconds = secondsSince(goneStart);

    List<Row> rows = new ArrayList<>();
    String label = n + " idle sessions";
    rows.add(Row.memory("(m) host heap growth / session (" + label + ")", n == 0 ? 0 : (heapAfter - heapBefore) / n,
        "<= 1 MiB", TARGET_HEAP_PER_SESSION));
    rows.add(Row.memory("(m) jail resident memory / session: sum VmRSS", n == 0 ? 0 : rss / n, "-", null));
    rows.add(Row.memory("    same, sum Pss (shared pages split)", n == 0 ? 0 : pss / n, "", null));
    rows.add(Row.memory("(m) tenant cgroup memory.usage_in_bytes / " + n, n == 0 ? 0 : tenantAfter / n, "-", null));
    rows.add(Row.memory("    host process VmRSS growth / session", n == 0 ? 0 : (hostRssAfter - hostRssBefore) / n, "", null));
    List<String> notes = new ArrayList<>();
    notes.add(String.format(Locale.ROOT, "(m) opened %d of %d idle sessions%s in %.1f s (CreateSession p50 %.2f ms, p99"
        + " %.2f ms, one at a time, not paced: most creates start their jail themselves); %d processes in their"
        + " cgroups (%s without any); heap %.1f -> %.1f MiB after System.gc(), tenant cgroup %.1f -> %.1f MiB"
        + " (it also holds the tenant's one ready jail); closing them took %.1f s, their jails were gone %.1f s later%s",
        n, wanted, stopped == null ? "" : " (" + stopped + ")", openSeconds,
        n == 0 ? 0 : ms(Stats.of(Arrays.copyOf(createTimes, n)).p50()),
        n == 0 ? 0 : ms(Stats.of(Arrays.copyOf(createTimes, n)).p99()),
        processes, withoutProcesses, mib(heapBefore), mib(heapAfter), mib(tenantBefore), mib(tenantAfter),
        closeSeconds, goneSeconds, remaining == 0 ? "" : " (" + remaining + " session cgroups still there after 60 s)"));
    StringBuilder programs = new StringBuilder("(m) jail processes by program:");
    byProgram.forEach((name, sums) -> programs.append(String.format(Locale.ROOT,
        " %s x%d (VmRSS %.2f MiB, Pss %.2f MiB each);", name, sums[0], mib(sums[1] / sums[0]), mib(sums[2] / sums[0]))));
    notes.add(programs.toString());
    return new IdleResult(rows, notes);
  }

  /** Used heap after several full collections. */
  private static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Session cgroups of the tenant with at least nsjail and init in them. */
  private static int readySessionJails(Path tenantMemory) {
    int n = 0;
    for (Path group : Machine.children(tenantMemory)) {
      if (Machine.pids(group).size() >= 2) {
        n++;
      }
    }
    return n;
  }

  /** Cgroup directories of this host still present, and children of this JVM still alive. */
  private static List<String> leftovers(String hostRoot) {
    List<String> left = new ArrayList<>();
    for (String hierarchy : List.of("memory", "pids", "cpu", "cpuacct")) {
      Path dir = Machine.CGROUP_ROOT.resolve(hierarchy).resolve(hostRoot);
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (var walk = Files.walk(dir)) {
        walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(p -> {
          List<Long> pids = Machine.pids(p);
          if (!pids.isEmpty()) {
            left.add(p + " has processes " + pids);
          }
        });
      } catch (IOException e) {
        left.add("cannot walk " + dir + ": " + e.getMessage());
      }
    }
    List<Long> children = Machine.ownChildren();
    if (!children.isEmpty()) {
      left.add("child processes of the bench still alive: " + children);
    }
    if (left.isEmpty()) {
      // The host removes each session's group; the empty host and tenant groups above them stay: remove them.
      try {
        CgroupDriver.detect(Machine.CGROUP_ROOT).removeTree(hostRoot);
      } catch (Exception e) {
        left.add("cannot remove the empty groups under " + hostRoot + ": " + e.getMessage());
      }
      for (String hierarchy : List.of("memory", "pids", "cpu", "cpuacct")) {
        if (Files.exists(Machine.CGROUP_ROOT.resolve(hierarchy).resolve(hostRoot))) {
          left.add(hierarchy + "/" + hostRoot + " still exists");
        }
      }
    }
    return left;
  }

  // ---- gRPC client ------------------------------------------------------------------------

  /** One exec's stream, with client-side timestamps (System.nanoTime). */
  private static final class Timed {
    long sent;
    long started;
    long firstOutput;
    long resulted;
    long end;
    ExecResult result;
    String stdout = "";

    /** The host's own wall_time of the exec: Spawn frame sent to init until init's Exited handled. */
    long wallNanos() {
      return Durations.toNanos(result.getUsage().getWallTime());
    }

    /** The program's own CPU, user and system, as init's rusage gave it. */
    long cpuNanos() {
      return Durations.toNanos(result.getUsage().getCpuUser()) + Durations.toNanos(result.getUsage().getCpuSystem());
    }
  }

  private static final class Client {
    private final SessionServiceGrpc.SessionServiceBlockingStub sessions;
    private final ExecServiceGrpc.ExecServiceBlockingStub execs;

    Client(ManagedChannel channel) {
      this.sessions = SessionServiceGrpc.newBlockingStub(channel);
      this.execs = ExecServiceGrpc.newBlockingStub(channel);
    }

    String create() {
      return sessions.withDeadlineAfter(60, TimeUnit.SECONDS).createSession(CreateSessionRequest.getDefaultInstance())
          .getSessionId();
    }

    String get(String id) {
      return sessions.withDeadlineAfter(60, TimeUnit.SECONDS)
          .getSession(GetSessionRequest.newBuilder().setSessionId(id).build()).getSessionId();
    }

    void close(String id) {
      sessions.withDeadlineAfter(60, TimeUnit.SECONDS).closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build());
    }

    /** Runs argv in session {@code id} and reads the stream to its end. */
    Timed execToEnd(String id, String... argv) {
      Timed t = new Timed();
      StringBuilder stdout = new StringBuilder();
      t.sent = System.nanoTime();
      Iterator<ExecEvent> events = execs.withDeadlineAfter(60, TimeUnit.SECONDS)
          .exec(ExecRequest.newBuilder().setSessionId(id).addAllArgv(List.of(argv)).build());
      while (events.hasNext()) {
        ExecEvent e = events.next();
        long now = System.nanoTime();
        if (e.hasStarted()) {
          t.started = now;
        } else if (e.hasOutput()) {
          if (t.firstOutput == 0) {
            t.firstOutput = now;
          }
          if (e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT) {
            stdout.append(e.getOutput().getData().toStringUtf8());
          }
        } else if (e.hasResult()) {
          t.resulted = now;
          t.result = e.getResult();
        }
      }
      t.end = System.nanoTime();
      t.stdout = stdout.toString();
      check(t.started > 0, "Exec " + String.join(" ", argv) + ": no ExecStarted event");
      return t;
    }
  }

  // ---- table ------------------------------------------------------------------------------

  /** One table row: a latency series (ms) or one memory figure (bytes). */
  record Row(String metric, Stats stats, Long bytes, Stats baseline, String target, Double targetMs,
      Double targetRatio, Long targetBytes) {
    static Row latency(String metric, Stats s, Stats baseline, String target, Double targetMs, Double targetRatio) {
      return new Row(metric, s, null, baseline, target, targetMs, targetRatio, null);
    }

    static Row memory(String metric, long bytes, String target, Long targetBytes) {
      return new Row(metric, null, bytes, null, target, null, null, targetBytes);
    }

    String verdict() {
      if (targetBytes != null) {
        return bytes <= targetBytes ? "PASS" : "MISS";
      }
      if (targetMs == null && targetRatio == null) {
        return "";
      }
      boolean ok = targetMs == null || ms(stats.p50()) <= targetMs;
      if (targetRatio != null) {
        ok &= ratio() <= targetRatio;
      }
      return ok ? "PASS" : "MISS";
    }

    double ratio() {
      return (double) stats.p50() / baseline.p50();
    }
  }

  private static void printTable(PrintStream out, List<Row> rows, int n) {
    out.printf(Locale.ROOT, "%-58s %9s %9s %9s  %-18s %8s  %s%n", "metric (latency: ms, n=" + n + "; memory: MiB)",
        "p50", "p90", "p99", "target (p50)", "x base", "verdict");
    for (Row r : rows) {
      if (r.stats() != null) {
        out.printf(Locale.ROOT, "%-58s %9.3f %9.3f %9.3f  %-18s %8s  %s%n", r.metric(), ms(r.stats().p50()),
            ms(r.stats().p90()), ms(r.stats().p99()), r.target(),
            r.baseline() == null ? "1" : String.format(Locale.ROOT, "%.3f", r.ratio()), r.verdict());
      } else {
        out.printf(Locale.ROOT, "%-58s %9.3f %9s %9s  %-18s %8s  %s%n", r.metric(), mib(r.bytes()), "", "", r.target(),
            "", r.verdict());
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private static Stats stats(long[] samples, int from) {
    return Stats.of(Arrays.copyOfRange(samples, from, samples.length));
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

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // next spawn appends; harmless
    }
  }

  /** Prints "floor of (x)": calls x (h) + records x (f) + d4, against the baseline and the measured p50. */
  private static void printFloor(PrintStream out, String series, int calls, int records, Stats bareCall, Stats append,
      Stats programCpu, Stats baseline, double targetRatio, Stats measured) {
    long floor = calls * bareCall.p50() + records * append.p50() + programCpu.p50();
    out.printf(Locale.ROOT, "floor of %s: %d x (h) %.3f + %d x (f) %.3f + d4 %.3f = %.3f ms p50, %.3fx the baseline"
        + " (a sum of medians, an estimate); %.2fx is %.3f ms; %s is %.3f ms%n", series, calls, ms(bareCall.p50()), records,
        ms(append.p50()), ms(programCpu.p50()), ms(floor), floor / (double) baseline.p50(), targetRatio,
        targetRatio * baseline.p50() / 1e6, series, ms(measured.p50()));
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double mib(long bytes) {
    return bytes / (double) (1L << 20);
  }

  private static double secondsSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Everything the run creates, released once (normally or from the shutdown hook). */
  private static final class Resources {
    private final Path work;
    private final AtomicBoolean hostClosed = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    volatile RuntimeServer host;
    volatile ManagedChannel channel;
    volatile String hostCgroup;
    private volatile RandomAccessFile appendFile;
    private volatile io.grpc.Server bareServer;
    private volatile ManagedChannel bareChannel;

    Resources(Path work) {
      this.work = work;
    }

    /** The file (f) appends to, closed with everything else. */
    RandomAccessFile appendFile(Path file) throws IOException {
      appendFile = new RandomAccessFile(file.toFile(), "rw");
      return appendFile;
    }

    /** A plain grpc-java server with only the health service, on a loopback port, and a stub for it. */
    HealthGrpc.HealthBlockingStub bareHealth() throws IOException {
      bareServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(new HealthStatusManager().getHealthService()).build().start();
      bareChannel = NettyChannelBuilder.forAddress("127.0.0.1", bareServer.getPort()).usePlaintext().build();
      return HealthGrpc.newBlockingStub(bareChannel);
    }

    void closeHostAndChannel() {
      if (!hostClosed.compareAndSet(false, true)) {
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
      if (bareChannel != null) {
        bareChannel.shutdownNow();
      }
      if (bareServer != null) {
        bareServer.shutdownNow();
      }
      if (appendFile != null) {
        try {
          appendFile.close();
        } catch (IOException e) {
          System.err.println("bench: cannot close the append file: " + e.getMessage());
        }
      }
    }

    void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      closeHostAndChannel();
      if (hostCgroup != null) {
        try {
          CgroupDriver.detect(Machine.CGROUP_ROOT).killAndRemoveTree(hostCgroup, LinuxSyscalls.system());
        } catch (Exception e) {
          System.err.println("bench: cannot remove cgroups under " + hostCgroup + ": " + e.getMessage());
        }
      }
      try (var walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            System.err.println("bench: cannot delete " + p + ": " + e.getMessage());
          }
        });
      } catch (IOException e) {
        System.err.println("bench: cannot delete " + work + ": " + e.getMessage());
      }
    }
  }
}
