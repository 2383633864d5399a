package dev.paddock.bench;

import dev.paddock.client.Paddock;
import dev.paddock.client.Session;
import dev.paddock.runtime.RuntimeServer;
import dev.paddock.runtime.config.HostConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.tenant.TenantAdmin;
import dev.paddock.runtime.tenant.TenantsFile;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The clients against a stock one, in one run, on one real host: the CLI's {@code paddock exec --
 * true} (a process: JVM start, CreateSession, Exec, CloseSession) beside grpcurl making the same
 * three calls (three processes, reflection included); the Python client's and the Java client's
 * create + exec + close in a running program, beside the same grpcurl series. Rounds alternate, so
 * every series sees the same machine.
 */
public final class ClientsBench {
  private static final double TARGET_CLI_P50_MS = 500;
  private static final Pattern SESSION_ID = Pattern.compile("\"sessionId\":\\s*\"(ses_[0-9a-f]+)\"");

  private ClientsBench() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("PADDOCK_LOG_LEVEL") == null) {
      String env = System.getenv("PADDOCK_LOG_LEVEL");
      System.setProperty("PADDOCK_LOG_LEVEL", env == null || env.isBlank() ? "WARN" : env);
    }
    int rounds = 30;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--rounds")) {
        rounds = Integer.parseInt(args[++i]);
      } else {
        System.err.println("usage: ClientsBench [--rounds 30]");
        System.exit(2);
      }
    }
    System.exit(run(rounds, System.out));
  }

  private static int run(int rounds, PrintStream out) throws Exception {
    Path root = Path.of(System.getProperty("paddock.root", ".")).toAbsolutePath().normalize();
    Path nsjail = Path.of(System.getenv().getOrDefault("PADDOCK_NSJAIL",
        root.resolve(".paddock/tools/nsjail/nsjail/bin/nsjail").toString()));
    Path grpcurl = root.resolve(".paddock/tools/grpcurl/grpcurl");
    Path python = root.resolve(".paddock/tools/python-client/bin/python");
    Machine.describe(out, nsjail);
    Path work = Files.createTempDirectory("paddock-clients-bench-");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    Path tenants = work.resolve("tenants.yaml");
    String key = new TenantAdmin(tenants, Clock.systemUTC()).rotateKey("bench", "bench").key();
    TenantsFile.Document doc = TenantsFile.read(tenants);
    doc.tenants.forEach(t -> t.maxSessions = 64);
    TenantsFile.write(tenants, doc);
    RuntimeServer server = RuntimeServer.start(new HostConfig(new InetSocketAddress("127.0.0.1", 0), work, nsjail, 99999,
        99999, Machine.CGROUP_ROOT, SessionSettings.defaults()), Clock.systemUTC());
    String target = "127.0.0.1:" + server.port();
    Map<String, String> env = Map.of("PADDOCK_API_KEY", key, "PADDOCK_SERVER", target);
    try (Paddock java = Paddock.builder().target(target).apiKey(key).build()) {
      // Not measured: the launcher's first run after a build makes its class-data archive; JIT; the ready pool.
      for (int i = 0; i < 3; i++) {
        cli(root, env);
        grpcurl(grpcurl, key, target);
        javaClient(java);
      }
      List<Long> pythonSamples = new ArrayList<>();
      long[] cli = new long[rounds];
      long[] grpcurlCalls = new long[rounds];
      long[] javaCalls = new long[rounds];
      try (PythonLoop py = new PythonLoop(python, root.resolve("bench/src/main/python/clients_bench.py"), env)) {
        py.round(); // not measured: imports, the channel's connection
        for (int i = 0; i < rounds; i++) {
          cli[i] = cli(root, env);
          grpcurlCalls[i] = grpcurl(grpcurl, key, target);
          pythonSamples.add(py.round());
          javaCalls[i] = javaClient(java);
        }
      }
      long[] pythonCalls = pythonSamples.stream().mapToLong(Long::longValue).toArray();
      Stats cliStats = Stats.of(cli);
      Stats grpcurlStats = Stats.of(grpcurlCalls);
      Stats pyStats = Stats.of(pythonCalls);
      Stats javaStats = Stats.of(javaCalls);
      out.printf(Locale.ROOT, "%nCreateSession + Exec(true) + CloseSession, %d rounds, ms (p50 / p90 / max)%n", rounds);
      row(out, "paddock exec -- true (CLI process)", cliStats);
      row(out, "grpcurl, the same 3 calls (3 processes)", grpcurlStats);
      row(out, "Python client, in a running program", pyStats);
      row(out, "Java client, in a running program", javaStats);
      out.printf(Locale.ROOT, "%nratios of p50: CLI / grpcurl = %.2f; Python client / grpcurl = %.2f;"
          + " Java client / grpcurl = %.2f%n", ratio(cliStats, grpcurlStats), ratio(pyStats, grpcurlStats),
          ratio(javaStats, grpcurlStats));
      boolean met = cliStats.p50() / 1e6 < TARGET_CLI_P50_MS;
      out.printf(Locale.ROOT, "target: CLI exec -- true p50 < %.0f ms: %s (%.0f ms)%n", TARGET_CLI_P50_MS,
          met ? "met" : "MISSED", cliStats.p50() / 1e6);
      return 0;
    } finally {
      server.close();
      try (var walk = Files.walk(work)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void row(PrintStream out, String what, Stats s) {
    out.printf(Locale.ROOT, "  %-42s %7.1f %7.1f %7.1f%n", what, s.p50() / 1e6, s.p90() / 1e6, s.max() / 1e6);
  }

  private static double ratio(Stats a, Stats b) {
    return (double) a.p50() / b.p50();
  }

  /** Wall time of {@code paddock exec -- true} through the repository's launcher, ns. */
  private static long cli(Path root, Map<String, String> env) throws Exception {
    long t = System.nanoTime();
    String output = run(root, env, root.resolve("paddock").toString(), "exec", "--", "true");
    long took = System.nanoTime() - t;
    if (!output.isEmpty()) {
      throw new IllegalStateException("paddock exec -- true printed: " + output);
    }
    return took;
  }

  /** Wall time of grpcurl creating a session, running true in it and closing it: three processes, ns. */
  private static long grpcurl(Path grpcurl, String key, String target) throws Exception {
    String auth = "authorization: Bearer " + key;
    long t = System.nanoTime();
    String created = run(null, Map.of(), grpcurl.toString(), "-plaintext", "-H", auth, "-d", "{}", target,
        "paddock.v1.SessionService/CreateSession");
    Matcher m = SESSION_ID.matcher(created);
    if (!m.find()) {
      throw new IllegalStateException("no session in " + created);
    }
    run(null, Map.of(), grpcurl.toString(), "-plaintext", "-H", auth, "-d",
        "{\"session_id\": \"" + m.group(1) + "\", \"argv\": [\"true\"]}", target, "paddock.v1.ExecService/Exec");
    run(null, Map.of(), grpcurl.toString(), "-plaintext", "-H", auth, "-d", "{\"session_id\": \"" + m.group(1) + "\"}",
        target, "paddock.v1.SessionService/CloseSession");
    return System.nanoTime() - t;
  }

  /** The Java client's create + exec + close in this process, ns. */
  private static long javaClient(Paddock paddock) {
    long t = System.nanoTime();
    try (Session session = paddock.createSession()) {
      if (!session.exec("true").ok()) {
        throw new IllegalStateException("true failed");
      }
    }
    return System.nanoTime() - t;
  }

  private static String run(Path dir, Map<String, String> env, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }

  /** A Python program with the client that does one round per line it reads and answers its time in ns. */
  private static final class PythonLoop implements AutoCloseable {
    private final Process process;
    private final java.io.BufferedReader answers;

    PythonLoop(Path python, Path script, Map<String, String> env) throws IOException {
      ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT);
      pb.environment().putAll(env);
      process = pb.start();
      answers = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    long round() throws IOException {
      process.getOutputStream().write('\n');
      process.getOutputStream().flush();
      String line = answers.readLine();
      if (line == null) {
        throw new IOException("the Python client's loop ended");
      }
      return Long.parseLong(line.trim());
    }

    @Override
    public void close() throws Exception {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
