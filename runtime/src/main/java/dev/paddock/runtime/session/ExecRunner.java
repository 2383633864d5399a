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
import java.util.concurrent.atomic.AtomicBoolean;
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
    return "paddock/t-" + s.tenantId() + "/" + s.id();
  }

  void run(Session session, ExecSpec spec, Duration timeLimit, ExecListener listener) {
    String execId = Ids.newId("exe");
    SandboxPolicy policy = session.policy().withLimits(
        session.policy().limits().toBuilder().wallTime(timeLimit).build());
    Map<String, String> env = new HashMap<>(session.env());
    env.putAll(spec.env());
    SandboxRequest request = new SandboxRequest(spec.argv(), env, spec.cwd(), spec.stdin(),
        session.workspace(), policy, sessionCgroup(session) + "/" + execId);

    AtomicBoolean cancelled = new AtomicBoolean();
    SandboxProcess[] holder = new SandboxProcess[1];
    listener.started(execId, clock.instant(), () -> {
      cancelled.set(true);
      SandboxProcess p;
      synchronized (holder) {
        p = holder[0];
      }
      if (p != null) {
        p.cancel("the caller cancelled the exec");
      }
    });
    SandboxProcess process;
    try {
      process = launcher.start(request);
    } catch (SandboxSetupException e) {
      log.error("exec {} in session {}: sandbox setup failed", execId, session.id(), e.getCause());
      jail.reportSetupFailure(e.getMessage());
      listener.finished(SandboxResult.setupError(e.getMessage()), new ExecListener.ExecCounters(0, 0, false));
      return;
    }
    synchronized (holder) {
      holder[0] = process;
    }
    if (cancelled.get()) {
      process.cancel("the caller cancelled the exec");
    }
    if (!session.register(execId, process)) {
      process.cancel("the session closed");
    }
    try {
      Pump err = new Pump(process.stderr(), ExecListener.Stream.STDERR, listener);
      CompletableFuture<Void> errDone = CompletableFuture.runAsync(err, pumps);
      Pump out = new Pump(process.stdout(), ExecListener.Stream.STDOUT, listener);
      out.run();
      errDone.join();
      SandboxResult result = process.await();
      listener.finished(result, new ExecListener.ExecCounters(out.total, err.total, out.truncated || err.truncated));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.cancel("the host is shutting down");
      listener.finished(SandboxResult.internalError("the host was interrupted", ResourceUsage.NONE),
          new ExecListener.ExecCounters(0, 0, false));
    } catch (RuntimeException e) {
      process.cancel("the host failed while supervising the exec");
      throw e;
    } finally {
      session.unregister(execId);
    }
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
