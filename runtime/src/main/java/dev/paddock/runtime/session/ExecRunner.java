package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.policy.Limits;
import dev.paddock.runtime.Ids;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.ipc.IpcChannel;
import dev.paddock.runtime.ipc.IpcLimits;
import dev.paddock.runtime.ipc.IpcSummary;
import dev.paddock.runtime.ipc.ToolBroker;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.ExecCommand;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts execs in their session's live jail and pumps their output. One pump task per running
 * exec reads both pipes (poll, then read) into the exec's {@link ExecOutput}s; once both pipes are
 * at end of file (or the main process has ended and a short drain time has passed, for a
 * background child that keeps the pipes open), the exec's {@link ExecRecord.Outcome} is set.
 */
public final class ExecRunner {
  private static final Logger log = LoggerFactory.getLogger(ExecRunner.class);
  /** Largest chunk read from a pipe at once, bytes. */
  static final int CHUNK_BYTES = 64 * 1024;
  /** After the main process ends, how long output from children that kept the pipes is still read. */
  private static final long DRAIN_MILLIS = 200;
  static final String WORKSPACE = "/workspace";
  private static final List<String> PATH_DIRS = List.of("/usr/local/bin", "/usr/bin", "/bin");
  /**
   * The jail's one way out is the egress proxy on its own loopback (see EgressListeners); these
   * point the usual tools at it: curl, wget, git, Python (urllib, requests, pip), npm and yarn,
   * Go, and anything that reads ALL_PROXY. SOCKS as socks5h, so names are resolved by the host.
   */
  static final Map<String, String> PROXY_ENV = proxyEnv();

  private static Map<String, String> proxyEnv() {
    String http = "http://127.0.0.1:" + dev.paddock.sandbox.jail.EgressListeners.HTTP_PORT;
    String socks = "socks5h://127.0.0.1:" + dev.paddock.sandbox.jail.EgressListeners.SOCKS_PORT;
    String local = "localhost,127.0.0.1,::1";
    Map<String, String> env = new LinkedHashMap<>();
    for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "PIP_PROXY",
        "NPM_CONFIG_PROXY", "NPM_CONFIG_HTTPS_PROXY", "npm_config_proxy", "npm_config_https_proxy",
        "YARN_HTTP_PROXY", "YARN_HTTPS_PROXY")) {
      env.put(name, http);
    }
    env.put("ALL_PROXY", socks);
    env.put("all_proxy", socks);
    env.put("NO_PROXY", local);
    env.put("no_proxy", local);
    return Map.copyOf(env);
  }

  /** Most IPC requests served per wake-up, so output keeps flowing beside a busy channel. */
  private static final int IPC_BATCH = 64;
  /** The most a pipe holds (/proc/sys/fs/pipe-max-size: how far an unprivileged tool may grow one). */
  private static final long PIPE_MAX_BYTES = pipeMaxBytes();

  /**
   * An exec that has run this long when its output ends is checked before its result (see
   * {@link #onOutputEnd}). A tool that opens network connections runs longer than this.
   */
  static final long OUTPUT_END_CHECK_IN_STREAM_MILLIS = 10;

  private final ExecutorService pumps;
  private volatile OutputEndCheck outputEnd = OutputEndCheck.NONE;
  private final LinuxSyscalls linux;
  private volatile SessionSettings settings;
  private final Clock clock;
  private final Map<String, String> jailEnv;
  private volatile ToolBroker broker;

  /**
   * @param jailEnv variables every exec gets first (where the jail's SDKs are), before the
   *     defaults and the session's and exec's own
   */
  private volatile ExecAudit audit = ExecAudit.NONE;
  private volatile dev.paddock.runtime.vault.SecretSource secrets;

  /** Most secrets one exec may ask for. */
  static final int MAX_SECRET_ENV = 16;
  private static final java.util.regex.Pattern ENV_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  public ExecRunner(ExecutorService pumps, LinuxSyscalls linux, SessionSettings settings, Clock clock,
      Map<String, String> jailEnv) {
    this.pumps = pumps;
    this.linux = linux;
    this.settings = settings;
    this.clock = clock;
    this.jailEnv = Map.copyOf(jailEnv);
  }

  /** New output limits for execs started from now on (the operator file changed). */
  void settings(SessionSettings changed) {
    this.settings = changed;
  }

  /** Output kept per stream: the host's cap, or the tenant's when it is lower (0 = none of its own). */
  private long outputCap(long tenantCap) {
    long host = settings.maxOutputBytes();
    return tenantCap > 0 ? Math.min(host, tenantCap) : host;
  }

  /** A runner without SDK variables. */
  public ExecRunner(ExecutorService pumps, LinuxSyscalls linux, SessionSettings settings, Clock clock) {
    this(pumps, linux, settings, clock, Map.of());
  }

  /**
   * The broker that serves execs' IPC channels. Set once at host start, after the layers it uses
   * exist (they need this runner first). Without one, an exec's IPC socket is closed at once.
   */
  public void tools(ToolBroker broker) {
    this.broker = broker;
  }

  /** Records every exec's start and end with {@code audit}. */
  public void secrets(dev.paddock.runtime.vault.SecretSource secrets) {
    this.secrets = secrets;
  }

  public void audit(ExecAudit audit) {
    this.audit = audit;
  }

  /**
   * Sets what is checked on an exec's pump thread once its output has ended: for an exec that ran
   * at least {@link #OUTPUT_END_CHECK_IN_STREAM_MILLIS}, {@link OutputEndCheck#beforeResult} before
   * its streams close and its result is sent, so that the events it records reach the exec's
   * stream; for a shorter one, {@link OutputEndCheck#afterResult} after its result, so that a
   * {@code /bin/true} keeps its latency.
   */
  public void onOutputEnd(OutputEndCheck check) {
    this.outputEnd = check;
  }

  /**
   * Starts {@code spec} in {@code session}'s jail and returns at once; the record's outcome
   * completes when it has ended and its output has drained. With {@code primaryReader}, the
   * output is held for a primary reader at offset 0 from the first byte on (see
   * {@link ExecFollower}); that reader must then follow the record, which releases the hold.
   *
   * @throws PaddockException SESSION_CLOSED when the session closed meanwhile (or its jail is going
   *     down); INTERNAL / SANDBOX_SETUP_FAILED when the live jail could not take the exec
   */
  ExecRecord start(Session session, ExecSpec spec, Duration timeLimit, Duration cpuLimit, long tenantOutputCap,
      boolean primaryReader, Runnable beforeOutcome) {
    Limits limits = session.policy().limits();
    Map<String, byte[]> secretValues = secretValues(session, spec);
    List<String> env = environment(session, spec);
    secretValues.forEach((var, value) -> env.add(var + "=" + new String(value, java.nio.charset.StandardCharsets.UTF_8)));
    ExecCommand command = new ExecCommand(spec.argv(), env,
        spec.cwd().isEmpty() ? WORKSPACE : WORKSPACE + "/" + spec.cwd(), timeLimit, cpuLimit,
        limits.maxFileBytes(), limits.maxOpenFiles(), spec.ipc());
    String id = Ids.newId("exe");
    ExecAudit trail = audit;
    spec.secretEnv().forEach((var, secret) -> trail.credentialUsed(session, id, secret, var));
    trail.starting(session, id, spec); // durable before anything runs, and so is every record before it
    ExecRecord record;
    synchronized (session) {
      if (session.state() != Session.State.ACTIVE) {
        throw SessionManager.sessionClosed(session);
      }
      JailProcess exec;
      try {
        exec = session.jail().spawn(command);
      } catch (SandboxSetupException e) {
        log.warn("session {}: exec refused: {}", session.id(), e.getMessage());
        if (session.jail().alive()) {
          // The jail runs but could not take this exec (the host's pipes): the session is not closed.
          throw new PaddockException.Internal(ErrorReason.SANDBOX_SETUP_FAILED, e.getMessage(), Map.of("stage", "exec"), e);
        }
        throw SessionManager.sessionClosed(session);
      }
      record = new ExecRecord(id, session, spec.argv(), spec.cwd(), clock.instant(), exec,
          settings.replayBytes(), outputCap(tenantOutputCap), linux, spec.keepStdinOpen(), beforeOutcome);
      if (!secretValues.isEmpty()) {
        Map<String, byte[]> byName = new LinkedHashMap<>();
        spec.secretEnv().forEach((var, secret) -> byName.put(secret, secretValues.get(var)));
        record.redactWith(new OutputRedactor(byName), new OutputRedactor(byName), new OutputRedactor(byName));
        secretValues.values().forEach(v -> java.util.Arrays.fill(v, (byte) 0));
      }
      session.register(record);
    }
    if (primaryReader) {
      // Before the pump starts: a fast program would otherwise overwrite the replay buffer before
      // the reader's thread attaches, and the caller's stream would miss its first bytes.
      record.stdout().attachPrimary(0);
      record.stderr().attachPrimary(0);
      record.events().attachPrimary(0);
    }
    byte[] stdin = spec.stdin();
    if (stdin.length > 0) {
      long deadline = System.currentTimeMillis() + timeLimit.toMillis();
      pumps.execute(() -> record.writeInitialStdin(stdin, deadline));
    } else if (!spec.keepStdinOpen()) {
      record.writeInitialStdin(stdin, 0);
    }
    pumps.execute(() -> pump(session, record));
    return record;
  }

  /** The jail's default environment, then the session's, then the exec's variables. */
  private List<String> environment(Session session, ExecSpec spec) {
    Map<String, String> env = new LinkedHashMap<>(jailEnv);
    if (spec.ipc()) {
      ToolBroker tools = broker;
      env.put("PADDOCK_IPC_FD", "3");
      env.put("PADDOCK_IPC_MAX_FRAME", Integer.toString(
          (tools == null ? IpcLimits.DEFAULTS : tools.limits()).maxFrameBytes()));
    }
    env.put("PATH", String.join(":", PATH_DIRS));
    env.put("HOME", WORKSPACE);
    env.put("TMPDIR", "/tmp");
    env.put("LANG", "C.UTF-8");
    env.putAll(PROXY_ENV);
    env.putAll(session.env());
    env.putAll(spec.env());
    List<String> out = new ArrayList<>(env.size());
    env.forEach((k, v) -> out.add(k + "=" + v));
    return out;
  }

  private void pump(Session session, ExecRecord record) {
    JailProcess exec = record.jail();
    Fd out = exec.stdout();
    Fd err = exec.stderr();
    IpcChannel ipc = openChannel(record);
    ToolBroker tools = broker;
    boolean[] open = {true, true};
    long drainUntil = 0;
    byte[] buf = new byte[CHUNK_BYTES];
    boolean cancelledForIpc = false;
    boolean checkedInStream = false;
    try {
      while (open[0] || open[1] || (ipc != null && ipc.open())) {
        if (exec.result().isDone()) {
          long now = System.nanoTime();
          if (drainUntil == 0) {
            drainUntil = now + DRAIN_MILLIS * 1_000_000;
          } else if (now - drainUntil > 0) {
            break;
          }
        }
        List<Fd> fds = new ArrayList<>(3);
        List<Short> events = new ArrayList<>(3);
        if (open[0]) {
          fds.add(out);
          events.add(LinuxSyscalls.POLLIN);
        }
        if (open[1]) {
          fds.add(err);
          events.add(LinuxSyscalls.POLLIN);
        }
        // Left out while it has nothing to send and may not be read (a flood's pause): a hang-up
        // would otherwise wake the loop at once, again and again, until the pause ends.
        int ipcAt = -1;
        if (ipc != null && ipc.open() && (ipc.wantsRead() || ipc.wantsWrite())) {
          ipcAt = fds.size();
          fds.add(ipc.fd());
          events.add((short) ((ipc.wantsRead() ? LinuxSyscalls.POLLIN : 0) | (ipc.wantsWrite() ? LinuxSyscalls.POLLOUT : 0)));
        }
        short[] wanted = new short[events.size()];
        for (int i = 0; i < wanted.length; i++) {
          wanted[i] = events.get(i);
        }
        boolean buffered = ipcAt >= 0 && ipc.hasBufferedRequest();
        int timeout = buffered ? 0 : exec.result().isDone() ? 20 : 100;
        if (ipc != null && ipc.open() && ipc.pauseNanos() > 0) {
          // A flood's debt is being repaid: wake when reading may go on.
          timeout = (int) Math.min(timeout, Math.max(1, ipc.pauseNanos() / 1_000_000));
        }
        short[] ready = linux.poll(fds, wanted, timeout);
        if (buffered) {
          ready[ipcAt] |= LinuxSyscalls.POLLIN;
        }
        for (int i = 0; i < fds.size(); i++) {
          if (ready[i] == 0) {
            continue;
          }
          Fd fd = fds.get(i);
          if (fd == out || fd == err) {
            readOnce(record, fd == out ? 0 : 1, fd, buf, open);
          } else {
            serve(record, ipc, tools, ready[i], buf, open);
          }
        }
        if (ipc != null && ipc.fatal() && !cancelledForIpc) {
          cancelledForIpc = true;
          IpcSummary summary = ipc.summary();
          log.info("session {} exec {}: IPC protocol violation ({}); killing the exec", session.id(), record.id(),
              summary.violationDetail());
          exec.cancel("IPC protocol violation: " + summary.violationDetail());
        }
      }
      if (Duration.between(record.startTime(), clock.instant()).toMillis() >= OUTPUT_END_CHECK_IN_STREAM_MILLIS) {
        checkOutputEnd(session, record, true);
        checkedInStream = true;
      }
    } catch (NativeException | RuntimeException e) {
      log.error("session {} exec {}: output pump failed; killing the exec", session.id(), record.id(), e);
      exec.cancel("the host failed while reading the exec's output");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exec.cancel("the host is shutting down");
    } finally {
      linux.close(out);
      linux.close(err);
      if (ipc != null) {
        ipc.close();
      }
      record.stdout().end();
      record.stderr().end();
    }
    SandboxResult result = awaitResult(exec);
    ExecRecord.Outcome outcome = new ExecRecord.Outcome(result, record.stdout().total(), record.stderr().total(),
        record.stdout().truncated() || record.stderr().truncated(), ipc == null ? null : ipc.summary());
    audit.finished(session, record, outcome);
    record.finish(outcome, clock.instant());
    session.finished(record);
    if (!checkedInStream) {
      checkOutputEnd(session, record, false);
    }
  }

  /** The {@link #onOutputEnd} check; its failure is logged and never touches the exec. */
  private void checkOutputEnd(Session session, ExecRecord record, boolean beforeResult) {
    try {
      if (beforeResult) {
        outputEnd.beforeResult(session);
      } else {
        outputEnd.afterResult(session);
      }
    } catch (RuntimeException e) {
      log.error("session {} exec {}: the check at the end of its output failed", session.id(), record.id(), e);
    }
  }

  /** The exec's IPC channel, or null when it has none (or no broker serves channels here). */
  private IpcChannel openChannel(ExecRecord record) {
    Fd fd = record.jail().ipc().orElse(null);
    if (fd == null) {
      return null;
    }
    ToolBroker tools = broker;
    if (tools == null) {
      linux.close(fd);
      return null;
    }
    try {
      return tools.channel(fd, linux, record.session().tenantId());
    } catch (NativeException e) {
      log.error("exec {}: cannot set up its IPC channel", record.id(), e);
      linux.close(fd);
      return null;
    }
  }

  /** One read of stream {@code which} (0 stdout, 1 stderr); marks it closed at end of file. */
  private void readOnce(ExecRecord record, int which, Fd fd, byte[] buf, boolean[] open)
      throws NativeException, InterruptedException {
    int n = linux.read(fd, buf, 0, buf.length);
    ExecOutput output = which == 0 ? record.stdout() : record.stderr();
    OutputRedactor redactor = record.redactor(which);
    if (n <= 0) {
      open[which] = false;
      if (redactor != null) {
        byte[] rest = redactor.finish();
        output.write(rest, rest.length);
      }
      return;
    }
    if (redactor == null) {
      output.write(buf, n);
    } else {
      byte[] clean = redactor.feed(buf, n);
      output.write(clean, clean.length);
    }
  }

  /**
   * The values of {@code spec.secretEnv()}, by variable, checked: the session's policy lets secrets
   * in, variables are well formed and not also in env, values hold no NUL byte.
   */
  private Map<String, byte[]> secretValues(Session session, ExecSpec spec) {
    if (spec.secretEnv().isEmpty()) {
      return Map.of();
    }
    if (!session.policy().secretsInJail()) {
      throw new PaddockException.PermissionDenied(ErrorReason.PERMISSION_DENIED_POLICY,
          "the session's policy keeps secrets out of the jail",
          Map.of("policy", session.policyName(), "operation", "secret_env"));
    }
    if (spec.secretEnv().size() > MAX_SECRET_ENV) {
      throw new PaddockException.InvalidArgument("secret_env", "at most " + MAX_SECRET_ENV + " secrets an exec");
    }
    dev.paddock.runtime.vault.SecretSource source = secrets;
    if (source == null) {
      throw new PaddockException.FailedPrecondition(ErrorReason.SECRET_NOT_FOUND, "this host keeps no secrets");
    }
    Map<String, byte[]> values = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : spec.secretEnv().entrySet()) {
      String var = e.getKey();
      if (!ENV_NAME.matcher(var).matches() || spec.env().containsKey(var)) {
        throw new PaddockException.InvalidArgument("secret_env",
            "variable " + var + " is not [A-Za-z_][A-Za-z0-9_]* or is also in env");
      }
      byte[] value;
      try {
        value = source.reveal(session.tenantId(), e.getValue());
      } catch (java.io.IOException failure) {
        log.error("session {}: secret {} could not be read: {}", session.id(), e.getValue(), failure.getMessage());
        throw new PaddockException.Internal("the secret store could not be used", failure);
      }
      for (byte b : value) {
        if (b == 0) {
          java.util.Arrays.fill(value, (byte) 0);
          throw new PaddockException.InvalidArgument("secret_env", "secret " + e.getValue() + " holds a NUL byte, which no"
              + " environment variable can");
        }
      }
      values.put(var, value);
    }
    return values;
  }

  /**
   * Serves the channel: sends what waits, then reads and answers up to {@link #IPC_BATCH} requests,
   * one at a time, while the tool reads its replies. Before a progress or artifact request it reads
   * the output pipes dry (up to what a pipe can hold): the tool wrote that output before it sent the request, so
   * the event lands after it.
   */
  private void serve(ExecRecord record, IpcChannel ipc, ToolBroker tools, short revents, byte[] buf, boolean[] open)
      throws NativeException, InterruptedException {
    if ((revents & (LinuxSyscalls.POLLOUT | LinuxSyscalls.POLL_CLOSED)) != 0) {
      ipc.flush();
    }
    if ((revents & (LinuxSyscalls.POLLIN | LinuxSyscalls.POLL_CLOSED)) == 0 || !ipc.wantsRead()) {
      return;
    }
    for (int served = 0; served < IPC_BATCH && ipc.wantsRead(); served++) {
      List<Envelope> next = ipc.read(1);
      if (next.isEmpty()) {
        return;
      }
      Envelope request = next.get(0);
      if (request.hasProgress() || request.hasArtifact()) {
        drainOutput(record, buf, open);
      }
      ipc.reply(tools.handle(record, request));
    }
  }

  /**
   * Reads both pipes until neither has data ready, or each has given {@link #PIPE_MAX_BYTES} (the
   * most a pipe can hold: everything the tool wrote before its request, even while it keeps writing).
   */
  private void drainOutput(ExecRecord record, byte[] buf, boolean[] open) throws NativeException, InterruptedException {
    Fd[] pipes = {record.jail().stdout(), record.jail().stderr()};
    long[] drained = new long[2];
    while (true) {
      List<Fd> fds = new ArrayList<>(2);
      List<Integer> which = new ArrayList<>(2);
      for (int i = 0; i < 2; i++) {
        if (open[i] && drained[i] < PIPE_MAX_BYTES) {
          fds.add(pipes[i]);
          which.add(i);
        }
      }
      if (fds.isEmpty()) {
        return;
      }
      boolean[] ready = linux.pollReadable(fds, 0);
      boolean any = false;
      for (int i = 0; i < ready.length; i++) {
        if (ready[i]) {
          any = true;
          int stream = which.get(i);
          ExecOutput output = stream == 0 ? record.stdout() : record.stderr();
          long before = output.total();
          readOnce(record, stream, fds.get(i), buf, open);
          drained[stream] += output.total() - before;
        }
      }
      if (!any) {
        return;
      }
    }
  }

  private static long pipeMaxBytes() {
    return dev.paddock.sandbox.linux.Sysctl.readLong(java.nio.file.Path.of("/proc/sys/fs/pipe-max-size"))
        .orElse(1 << 20); // the kernel's default
  }

  private static SandboxResult awaitResult(JailProcess exec) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return exec.result().get();
        } catch (InterruptedException e) {
          interrupted = true; // the result always comes: the jail's own timers guarantee it
        } catch (ExecutionException e) {
          return SandboxResult.internalError("the host failed while supervising the exec", dev.paddock.sandbox.ResourceUsage.NONE);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
