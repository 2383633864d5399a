package dev.paddock.client;

import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.GetArtifactRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One session: a live jail on the host, with its workspace. Commands run in it one after another
 * or side by side; files stay between them. {@link #close()} closes it on the host (killing what
 * still runs and wiping the workspace); {@link #detach()} first, to leave it open.
 */
public final class Session implements AutoCloseable {
  private final Calls calls;
  private final String id;
  private volatile dev.paddock.ipc.v1.Session info;
  private volatile boolean detached;

  Session(Calls calls, dev.paddock.ipc.v1.Session info) {
    this.calls = calls;
    this.id = info.getSessionId();
    this.info = info;
  }

  /** Its id ({@code ses_} and 32 hex digits). */
  public String id() {
    return id;
  }

  /** What the host said of it last (at creation, or at the last {@link #refresh()}). */
  public dev.paddock.ipc.v1.Session info() {
    return info;
  }

  /** Reads its state again. */
  public dev.paddock.ipc.v1.Session refresh() {
    info = calls.sessions().getSession(GetSessionRequest.newBuilder().setSessionId(id).build());
    return info;
  }

  /** Runs {@code argv} and waits for it: its output and how it ended. */
  public ExecOutcome exec(String... argv) {
    return exec(Command.of(argv));
  }

  /** Runs {@code command} and waits for it: its output and how it ended. */
  public ExecOutcome exec(Command command) {
    return exec(command, new ExecListener() {});
  }

  /**
   * Runs {@code command}, handing {@code listener} each event as it arrives, and answers the whole
   * outcome once it has ended. A non-zero exit is an outcome, not an exception.
   */
  public ExecOutcome exec(Command command, ExecListener listener) {
    try (Stream<ExecEvent> events = execEvents(command)) {
      return collect(events, listener);
    }
  }

  /** Runs {@code command}, its events as a stream (close it to stop reading; the command is then killed). */
  public Stream<ExecEvent> execEvents(Command command) {
    return calls.execs().exec(command.request(id, false));
  }

  /**
   * Starts {@code command} in the background (its stdin open for {@link RunningExec#writeStdin})
   * and returns at once. It runs until it ends, is signalled, or the session closes.
   */
  public RunningExec start(Command command) {
    return new RunningExec(calls.execs(), id, calls.execs().startExec(command.request(id, true)).getExecId());
  }

  /** A command started earlier (by this client or another), by id. */
  public RunningExec running(String execId) {
    return new RunningExec(calls.execs(), id, execId);
  }

  /** The workspace's files. */
  public SessionFiles files() {
    return new SessionFiles(calls.files(), id);
  }

  /** Starts a browser for this session (closed with it), from the tenant's providers. */
  public SessionBrowser openBrowser() {
    return SessionBrowser.open(calls.browsers(), id, "");
  }

  /** The bytes of artifact {@code name} a command published (with {@link Command#ipc}). */
  public byte[] artifact(String execId, String name) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Stream<dev.paddock.ipc.v1.ArtifactChunk> chunks = calls.execs().getArtifact(GetArtifactRequest.newBuilder()
        .setSessionId(id).setExecId(execId).setName(name).build())) {
      chunks.forEachRemaining(c -> out.writeBytes(c.getData().toByteArray()));
    }
    return out.toByteArray();
  }

  /** Leaves the session open when this object is closed (another program may use it by id). */
  public Session detach() {
    detached = true;
    return this;
  }

  /** Closes the session on the host, unless {@link #detach detached}; closing a closed one is fine. */
  @Override
  public void close() {
    if (detached) {
      return;
    }
    calls.sessions().closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build());
  }

  /** Reads {@code events} to the end, telling {@code listener}; the outcome. */
  static ExecOutcome collect(java.util.Iterator<ExecEvent> events, ExecListener listener) {
    String execId = "";
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    List<dev.paddock.ipc.v1.ToolProgress> progress = new ArrayList<>();
    List<dev.paddock.ipc.v1.ToolArtifact> artifacts = new ArrayList<>();
    while (events.hasNext()) {
      ExecEvent e = events.next();
      switch (e.getEventCase()) {
        case STARTED -> {
          execId = e.getStarted().getExecId();
          listener.started(execId);
        }
        case OUTPUT -> {
          byte[] data = e.getOutput().getData().toByteArray();
          if (e.getOutput().getStream() == dev.paddock.ipc.v1.OutputStream.OUTPUT_STREAM_STDERR) {
            stderr.writeBytes(data);
            listener.stderr(data);
          } else {
            stdout.writeBytes(data);
            listener.stdout(data);
          }
        }
        case PROGRESS -> {
          progress.add(e.getProgress());
          listener.progress(e.getProgress());
        }
        case ARTIFACT -> {
          artifacts.add(e.getArtifact());
          listener.artifact(e.getArtifact());
        }
        case EGRESS_DENIED -> listener.egressDenied(e.getEgressDenied());
        case RESULT -> {
          listener.result(e.getResult());
          return new ExecOutcome(execId, e.getResult(), stdout.toByteArray(), stderr.toByteArray(), progress, artifacts);
        }
        default -> {
          // an event of a newer host: nothing to do with it here
        }
      }
    }
    throw new UnavailableException(io.grpc.Status.Code.UNAVAILABLE, "the exec's stream ended without its result",
        "STREAM_ENDED", "", java.util.Map.of("execId", execId), null, null);
  }

  /** Attach request for a running exec, from the given output offsets. */
  static AttachExecRequest attach(String sessionId, String execId) {
    return AttachExecRequest.newBuilder().setSessionId(sessionId).setExecId(execId).build();
  }
}
