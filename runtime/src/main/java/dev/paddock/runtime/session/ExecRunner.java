package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.policy.Limits;
import dev.paddock.runtime.Ids;
import dev.paddock.runtime.errors.PaddockException;
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

  private final ExecutorService pumps;
  private final LinuxSyscalls linux;
  private final SessionSettings settings;
  private final Clock clock;

  public ExecRunner(ExecutorService pumps, LinuxSyscalls linux, SessionSettings settings, Clock clock) {
    this.pumps = pumps;
    this.linux = linux;
    this.settings = settings;
    this.clock = clock;
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
  ExecRecord start(Session session, ExecSpec spec, Duration timeLimit, Duration cpuLimit, boolean primaryReader,
      Runnable beforeOutcome) {
    Limits limits = session.policy().limits();
    ExecCommand command = new ExecCommand(spec.argv(), environment(session, spec),
        spec.cwd().isEmpty() ? WORKSPACE : WORKSPACE + "/" + spec.cwd(), timeLimit, cpuLimit,
        limits.maxFileBytes(), limits.maxOpenFiles());
    String id = Ids.newId("exe");
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
          settings.replayBytes(), settings.maxOutputBytes(), linux, spec.keepStdinOpen(), beforeOutcome);
      session.register(record);
    }
    if (primaryReader) {
      // Before the pump starts: a fast program would otherwise overwrite the replay buffer before
      // the reader's thread attaches, and the caller's stream would miss its first bytes.
      record.stdout().attachPrimary(0);
      record.stderr().attachPrimary(0);
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
  private static List<String> environment(Session session, ExecSpec spec) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", String.join(":", PATH_DIRS));
    env.put("HOME", WORKSPACE);
    env.put("TMPDIR", "/tmp");
    env.put("LANG", "C.UTF-8");
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
    boolean outOpen = true;
    boolean errOpen = true;
    long drainUntil = 0;
    byte[] buf = new byte[CHUNK_BYTES];
    try {
      while (outOpen || errOpen) {
        if (exec.result().isDone()) {
          long now = System.nanoTime();
          if (drainUntil == 0) {
            drainUntil = now + DRAIN_MILLIS * 1_000_000;
          } else if (now - drainUntil > 0) {
            break;
          }
        }
        List<Fd> open = new ArrayList<>(2);
        if (outOpen) {
          open.add(out);
        }
        if (errOpen) {
          open.add(err);
        }
        boolean[] ready = linux.pollReadable(open, exec.result().isDone() ? 20 : 100);
        for (int i = 0; i < open.size(); i++) {
          if (!ready[i]) {
            continue;
          }
          Fd fd = open.get(i);
          int n = linux.read(fd, buf, 0, buf.length);
          if (n <= 0) {
            if (fd == out) {
              outOpen = false;
            } else {
              errOpen = false;
            }
            continue;
          }
          (fd == out ? record.stdout() : record.stderr()).write(buf, n);
        }
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
      record.stdout().end();
      record.stderr().end();
    }
    SandboxResult result = awaitResult(exec);
    record.finish(new ExecRecord.Outcome(result, record.stdout().total(), record.stderr().total(),
        record.stdout().truncated() || record.stderr().truncated()), clock.instant());
    session.finished(record);
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
