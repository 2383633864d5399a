package dev.paddock.client;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.WriteStdinRequest;

/** A command started with {@link Session#start}: feed its stdin, signal it, follow its output. */
public final class RunningExec {
  private final ExecCalls execs;
  private final String sessionId;
  private final String id;

  RunningExec(ExecCalls execs, String sessionId, String id) {
    this.execs = execs;
    this.sessionId = sessionId;
    this.id = id;
  }

  /** Its exec id. */
  public String id() {
    return id;
  }

  /** Bytes of stdin per WriteStdin call: the host's limit. */
  static final int STDIN_CHUNK_BYTES = 1 << 20;

  /**
   * Writes to its stdin, in calls of at most 1 MiB; each waits while the process does not read
   * (the host buffers a little), up to the client's deadline.
   */
  public void writeStdin(byte[] data) {
    for (int at = 0; at < data.length || at == 0; at += STDIN_CHUNK_BYTES) {
      ByteString chunk = ByteString.copyFrom(data, at, Math.min(STDIN_CHUNK_BYTES, data.length - at));
      execs.writeStdin(WriteStdinRequest.newBuilder().setSessionId(sessionId).setExecId(id).setData(chunk).build());
      if (data.length == 0) {
        return;
      }
    }
  }

  /** Closes its stdin: the process reads end of file. */
  public void closeStdin() {
    execs.writeStdin(WriteStdinRequest.newBuilder().setSessionId(sessionId).setExecId(id).setClose(true).build());
  }

  /** Sends it a signal; false when it had ended already. */
  public boolean signal(Signal signal) {
    return execs.signalExec(SignalExecRequest.newBuilder().setSessionId(sessionId).setExecId(id).setSignal(signal).build())
        .getDelivered();
  }

  /** Its state: running or how it ended, its argv, times. */
  public ExecInfo info() {
    return execs.getExec(GetExecRequest.newBuilder().setSessionId(sessionId).setExecId(id).build());
  }

  /**
   * Its events from the start of its output (what the host still keeps) until it ends. Closing
   * the stream stops following; the command keeps running.
   */
  public Stream<ExecEvent> events() {
    return execs.attachExec(Session.attach(sessionId, id));
  }

  /** Follows it to its end, handing {@code listener} each event, and answers the outcome. */
  public ExecOutcome await(ExecListener listener) {
    try (Stream<ExecEvent> events = events()) {
      return Session.collect(events, listener);
    }
  }

  /** Follows it to its end and answers the outcome. */
  public ExecOutcome await() {
    return await(new ExecListener() {});
  }
}
