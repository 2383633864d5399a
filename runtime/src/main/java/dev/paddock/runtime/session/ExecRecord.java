package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.ipc.ArtifactMeta;
import dev.paddock.runtime.ipc.IpcSummary;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.Signal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One exec of a session, running or finished: what was asked, its output (bounded replay), its
 * stdin, and how it ended. Readers ({@link ExecListener}s of Exec and AttachExec calls) follow its
 * output; the result is set only after both output streams have ended, so a reader that sees the
 * result has seen every byte it was going to see.
 */
public final class ExecRecord {
  /** Lifecycle state. */
  public enum State { RUNNING, FINISHED }

  private final String id;
  private final Session session;
  private final List<String> argv;
  private final String cwd;
  private final Instant startTime;
  private final JailProcess jail;
  private final ExecOutput stdout;
  private final ExecOutput stderr;
  private final ToolEvents events;
  private final List<ArtifactMeta> artifacts = new ArrayList<>();
  private final LinuxSyscalls linux;
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  private final Object stdinLock = new Object();
  private final Object outputLock = new Object();
  private final Runnable beforeOutcome;
  private boolean stdinOpen;
  private long stdinBytes;
  private volatile Instant endTime;

  /**
   * How an exec ended, with its output accounting.
   *
   * @param result      the sandbox's verdict
   * @param stdoutBytes everything written to stdout (delivered or not)
   * @param stderrBytes likewise for stderr
   * @param truncated   output past the cap was dropped
   * @param ipc         what happened on its IPC channel; null when it had none
   */
  public record Outcome(SandboxResult result, long stdoutBytes, long stderrBytes, boolean truncated, IpcSummary ipc) {
    /** An outcome without an IPC channel. */
    public Outcome(SandboxResult result, long stdoutBytes, long stderrBytes, boolean truncated) {
      this(result, stdoutBytes, stderrBytes, truncated, null);
    }
  }

  /** Secret values taken out of stdout and stderr (ExecSpec.secretEnv), or null when it has none. */
  private volatile OutputRedactor[] redactors;

  /**
   * Takes {@code redactors} to clean the output: stdout's, stderr's, and one for the text of the
   * tool's events (progress messages); set before the pump starts.
   */
  void redactWith(OutputRedactor stdout, OutputRedactor stderr, OutputRedactor events) {
    this.redactors = new OutputRedactor[] {stdout, stderr, events};
  }

  /** {@code text} (a tool's progress message) with the exec's secret values replaced. */
  public String redact(String text) {
    OutputRedactor[] r = redactors;
    if (r == null) {
      return text;
    }
    synchronized (r[2]) {
      return r[2].redact(text);
    }
  }

  /** Stream {@code which} (0 stdout, 1 stderr)'s redactor, or null. */
  OutputRedactor redactor(int which) {
    OutputRedactor[] r = redactors;
    return r == null ? null : r[which];
  }

  /** The trace context of the call that started it (its tool's IPC calls become spans in it), and that call's request id. */
  private final io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.current();
  private final String requestId = dev.paddock.runtime.audit.AuditContext.REQUEST_ID.get();

  /** The trace context of the call that started it; its IPC calls' spans are children of it. */
  public io.opentelemetry.context.Context trace() {
    return trace;
  }

  /** The request id of the call that started it; null when no call did. */
  public String requestId() {
    return requestId;
  }

  ExecRecord(String id, Session session, List<String> argv, String cwd, Instant startTime, JailProcess jail,
      int replayBytes, long maxOutputBytes, LinuxSyscalls linux, boolean keepStdinOpen, Runnable beforeOutcome) {
    this.beforeOutcome = beforeOutcome;
    this.id = id;
    this.session = session;
    this.argv = List.copyOf(argv);
    this.cwd = cwd;
    this.startTime = startTime;
    this.jail = jail;
    this.stdout = new ExecOutput(outputLock, replayBytes, maxOutputBytes);
    this.stderr = new ExecOutput(outputLock, replayBytes, maxOutputBytes);
    this.events = new ToolEvents(outputLock);
    this.linux = linux;
    this.stdinOpen = keepStdinOpen;
  }

  public String id() {
    return id;
  }

  public String sessionId() {
    return session.id();
  }

  public List<String> argv() {
    return argv;
  }

  public String cwd() {
    return cwd;
  }

  public Instant startTime() {
    return startTime;
  }

  /** When it ended; null while running. */
  public Instant endTime() {
    return endTime;
  }

  public State state() {
    return outcome.isDone() ? State.FINISHED : State.RUNNING;
  }

  /** Completes once output has drained and the result is known. */
  public CompletableFuture<Outcome> outcome() {
    return outcome;
  }

  ExecOutput stdout() {
    return stdout;
  }

  ExecOutput stderr() {
    return stderr;
  }

  ToolEvents events() {
    return events;
  }

  /**
   * Records a tool event after everything the exec has written so far (the caller has read its
   * pipes up to the moment the request arrived).
   */
  public ToolEvent recordEvent(java.util.function.LongFunction<ToolEvent> make) throws InterruptedException {
    synchronized (outputLock) {
      return events.append(make, stdout.position(), stderr.position());
    }
  }

  /**
   * Reads at most {@code max} bytes of stdout (or stderr) from {@code offset}, without waiting, and
   * never past the place of the first tool event numbered {@code eventSequence} or later. The
   * bound is taken in one step with the read, under the lock events are recorded under: an event
   * recorded after the reader last looked still stops it, so output the tool wrote after sending
   * the event cannot go out before it. Returns what {@link ExecOutput#read} returns.
   */
  ExecOutput.Chunk readBeforeEvent(boolean fromStdout, long offset, int max, long eventSequence, boolean primary)
      throws InterruptedException {
    synchronized (outputLock) {
      ToolEvents.Entry next = events.from(eventSequence);
      long place = next == null ? Long.MAX_VALUE : fromStdout ? next.stdoutAt() : next.stderrAt();
      int bound = (int) Math.max(0, Math.min(max, place - offset));
      return (fromStdout ? stdout : stderr).read(offset, bound, 0, primary);
    }
  }

  /** Artifacts recorded by the exec, oldest first. */
  public List<ArtifactMeta> artifacts() {
    synchronized (artifacts) {
      return List.copyOf(artifacts);
    }
  }

  /** Notes a stored artifact. */
  public void addArtifact(ArtifactMeta artifact) {
    synchronized (artifacts) {
      artifacts.add(artifact);
    }
  }

  /**
   * Waits until stdout has bytes at or after {@code stdoutOffset}, or stderr at
   * {@code stderrOffset}, or either has ended, or a tool event numbered {@code eventSequence} or
   * later exists, for at most {@code waitMillis}. An offset of -1
   * leaves that stream out (its reader is done with it).
   */
  void awaitOutput(long stdoutOffset, long stderrOffset, long eventSequence, long waitMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + waitMillis;
    synchronized (outputLock) {
      while (!(stdoutOffset >= 0 && stdout.readable(stdoutOffset)) && !(stderrOffset >= 0 && stderr.readable(stderrOffset))
          && !events.readable(eventSequence)) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return;
        }
        outputLock.wait(left);
      }
    }
  }

  /** The session this exec runs in. */
  public Session session() {
    return session;
  }

  JailProcess jail() {
    return jail;
  }

  /** Bytes written to stdout so far. */
  public long stdoutBytes() {
    return stdout.total();
  }

  /** Bytes written to stderr so far. */
  public long stderrBytes() {
    return stderr.total();
  }

  public boolean stdinOpen() {
    synchronized (stdinLock) {
      return stdinOpen && state() == State.RUNNING;
    }
  }

  /** Sets the outcome, once; the caller's bookkeeping ({@code beforeOutcome}) runs first. */
  void finish(Outcome o, Instant end) {
    beforeOutcome.run();
    endTime = end;
    outcome.complete(o);
    closeStdinQuietly();
  }

  /** Writes the initial stdin bytes (then closes stdin unless it was asked to stay open). */
  void writeInitialStdin(byte[] data, long deadlineMillis) {
    try {
      synchronized (stdinLock) {
        writeFully(data, deadlineMillis);
        stdinBytes += data.length;
        if (!stdinOpen) {
          closeStdinQuietly();
        }
      }
    } catch (NativeException | PaddockException e) {
      // The program exited or closed its stdin early: what it did not read is not an error.
      closeStdinQuietly();
    }
  }

  /**
   * Writes {@code data} to the exec's stdin, waiting while the pipe is full until
   * {@code deadlineMillis} (epoch ms); closes stdin afterwards when asked.
   *
   * @return stdin bytes written so far in total
   */
  public long writeStdin(byte[] data, boolean close, long deadlineMillis) {
    synchronized (stdinLock) {
      if (state() == State.FINISHED) {
        throw new PaddockException.FailedPrecondition(ErrorReason.EXEC_FINISHED, "the exec has ended",
            Map.of("execId", id));
      }
      if (!stdinOpen) {
        throw new PaddockException.FailedPrecondition(ErrorReason.STDIN_CLOSED,
            "the exec's stdin is closed (start it with keep_stdin_open to write more)", Map.of("execId", id));
      }
      try {
        writeFully(data, deadlineMillis);
      } catch (NativeException e) {
        closeStdinQuietly();
        throw new PaddockException.FailedPrecondition(ErrorReason.STDIN_CLOSED, "the program closed its stdin", Map.of("execId", id));
      }
      stdinBytes += data.length;
      if (close) {
        closeStdinQuietly();
      }
      return stdinBytes;
    }
  }

  private void writeFully(byte[] data, long deadlineMillis) throws NativeException {
    if (data.length == 0) {
      return; // most execs: no stdin at all, so no syscalls on their start
    }
    Fd fd = jail.stdin();
    linux.setNonBlocking(fd, true);
    int off = 0;
    while (off < data.length) {
      int n = linux.write(fd, data, off, data.length - off);
      if (n > 0) {
        off += n;
        continue;
      }
      long left = deadlineMillis - System.currentTimeMillis();
      if (left <= 0) {
        throw new PaddockException.DeadlineExceeded("the program did not read its stdin in time; "
            + off + " of " + data.length + " bytes were written");
      }
      linux.pollWritable(fd, (int) Math.min(left, 1000));
    }
  }

  private void closeStdinQuietly() {
    synchronized (stdinLock) {
      stdinOpen = false;
      linux.close(jail.stdin());
    }
  }

  /**
   * Sends {@code signal}; SIGKILL goes to the whole tree, anything else to the main process.
   *
   * @return false when the exec had already ended
   */
  public boolean signal(Signal signal) {
    if (state() == State.FINISHED || jail.result().isDone()) {
      return false;
    }
    jail.signal(signal, signal == Signal.SIGKILL);
    return true;
  }

  /**
   * Kills the exec's tree on the host's behalf (its session closing, or the caller of the Exec
   * that started it gone); a running exec ends as KILLED with {@code reason}.
   */
  public void cancel(String reason) {
    if (state() == State.RUNNING) {
      jail.cancel(reason);
    }
  }

  /** The exec's number inside its jail (as the supervisor counts processes). */
  public long jailNumber() {
    return jail.number();
  }

  @Override
  public String toString() {
    return "exec " + id;
  }
}
