package dev.paddock.runtime.session;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.Ids;
import dev.paddock.sandbox.ResourceUsage;
import dev.paddock.sandbox.SandboxLauncher;
import dev.paddock.sandbox.SandboxProcess;
import dev.paddock.sandbox.SandboxRequest;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxSetupException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one exec: starts the jail, pumps both output streams to the listener, reports the result. */
public final class ExecRunner {
  private static final Logger log = LoggerFactory.getLogger(ExecRunner.class);
  /** Largest chunk handed to the listener, bytes. */
  static final int CHUNK_BYTES = 64 * 1024;

  private final SandboxLauncher launcher;
  private final JailGate jail;
  private final ExecutorService pumps;
  private final long maxOutputBytes;
  private final Clock clock;

  public ExecRunner(SandboxLauncher launcher, JailGate jail, ExecutorService pumps, long maxOutputBytes, Clock clock) {
    this.launcher = launcher;
    this.jail = jail;
    this.pumps = pumps;
    this.maxOutputBytes = maxOutputBytes;
    this.clock = clock;
  }

  /** The cgroup subtree of a session: {@code paddock/t-<tenant>/<session id>}. */
  static String sessionCgroup(Session s) {
    return sessionCgroup(s.tenantId(), s.id());
  }

  static String sessionCgroup(String tenantId, String sessionId) {
    return "paddock/t-" + tenantId + "/" + sessionId;
  }

  void run(Session session, ExecSpec spec, Duration timeLimit, ExecListener listener) {
    String execId = Ids.newId("exe");
    ExecHandle handle = session.admit(execId);
    if (handle == null) {
      throw SessionManager.sessionClosed(session);
    }
    try {
      listener.started(execId, clock.instant(), () -> handle.cancel("the caller cancelled the exec"));
      runAdmitted(session, execId, handle, spec, timeLimit, listener);
    } finally {
      session.finished(execId);
    }
  }

  private void runAdmitted(Session session, String execId, ExecHandle handle, ExecSpec spec, Duration timeLimit,
      ExecListener listener) {
    SandboxPolicy policy = session.policy().withLimits(
        session.policy().limits().toBuilder().wallTime(timeLimit).build());
    Map<String, String> env = new HashMap<>(session.env());
    env.putAll(spec.env());
    SandboxRequest request = new SandboxRequest(spec.argv(), env, spec.cwd(), spec.stdin(),
        session.workspace(), policy, sessionCgroup(session));
    if (handle.cancelled()) {
      // The session closed, or the caller left, before the jail started: start none.
      listener.finished(SandboxResult.killed(handle.cancelReason(), ResourceUsage.NONE),
          new ExecListener.ExecCounters(0, 0, false));
      return;
    }
    SandboxProcess process;
    try {
      process = launcher.start(request);
    } catch (SandboxSetupException e) {
      log.error("exec {} in session {}: sandbox setup failed", execId, session.id(), e.getCause());
      jail.reportSetupFailure(e.getMessage());
      listener.finished(SandboxResult.setupError(e.getMessage()), new ExecListener.ExecCounters(0, 0, false));
      return;
    }
    handle.attach(process);
    Pump out = new Pump(process.stdout(), ExecListener.Stream.STDOUT, listener);
    Pump err = new Pump(process.stderr(), ExecListener.Stream.STDERR, listener);
    SandboxResult result;
    try {
      CompletableFuture<Void> errDone = CompletableFuture.runAsync(err, pumps);
      out.run();
      errDone.join();
      result = process.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.cancel("the host is shutting down");
      result = SandboxResult.internalError("the host was interrupted", ResourceUsage.NONE);
    } catch (RuntimeException e) {
      // Report it in the stream, as the API promises once an exec has started; kill what runs.
      log.error("exec {} in session {}: supervision failed", execId, session.id(), e);
      process.cancel("the host failed while supervising the exec");
      result = SandboxResult.internalError("the host failed while supervising the exec", awaitQuietly(process));
    }
    listener.finished(result, new ExecListener.ExecCounters(out.total, err.total, out.truncated || err.truncated));
  }

  /** Waits for a killed process so its cgroup and scratch files are cleaned up; its usage, if any. */
  private static ResourceUsage awaitQuietly(SandboxProcess process) {
    try {
      return process.await().usage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("cleanup after a supervision failure failed too", e);
    }
    return ResourceUsage.NONE;
  }

  /** Copies one output stream to the listener in chunks, keeping at most maxOutputBytes of it. */
  private final class Pump implements Runnable {
    private final InputStream in;
    private final ExecListener.Stream stream;
    private final ExecListener listener;
    volatile long total;
    volatile boolean truncated;

    Pump(InputStream in, ExecListener.Stream stream, ExecListener listener) {
      this.in = in;
      this.stream = stream;
      this.listener = listener;
    }

    @Override
    public void run() {
      byte[] buf = new byte[CHUNK_BYTES];
      try (in) {
        int n;
        while ((n = in.read(buf)) > 0) {
          long offset = total;
          total += n;
          if (offset >= maxOutputBytes) {
            truncated = true;
            continue; // keep draining so the program is never blocked on a full pipe
          }
          int keep = (int) Math.min(n, maxOutputBytes - offset);
          truncated |= keep < n;
          listener.output(stream, java.util.Arrays.copyOf(buf, keep), offset);
        }
      } catch (IOException e) {
        // the pipe closed under us: the process is gone, its result says why
      }
    }
  }
}
