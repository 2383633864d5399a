package dev.paddock.client;

import dev.paddock.ipc.v1.ArtifactChunk;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStarted;
import dev.paddock.ipc.v1.GetArtifactRequest;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListExecsResponse;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.SignalExecResponse;
import dev.paddock.ipc.v1.WriteStdinRequest;
import dev.paddock.ipc.v1.WriteStdinResponse;
import java.time.Duration;

/**
 * ExecService: commands in a session (ExecPty, a bidirectional stream, is not here: use the channel). One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class ExecCalls extends ServiceCalls<ExecServiceGrpc.ExecServiceBlockingStub> {
  ExecCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private ExecCalls(Connection connection, Duration deadline) {
    super(connection, deadline, ExecServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public ExecCalls withDeadline(Duration deadline) {
    return new ExecCalls(connection, deadline);
  }

  /** ExecService.Exec: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<ExecEvent> exec(ExecRequest request) {
    return Stream.open(() -> streams().exec(request));
  }

  /** ExecService.StartExec. */
  public ExecStarted startExec(ExecRequest request) {
    return connection.call(() -> unary().startExec(request));
  }

  /** ExecService.WriteStdin. */
  public WriteStdinResponse writeStdin(WriteStdinRequest request) {
    return connection.call(() -> unary().writeStdin(request));
  }

  /** ExecService.SignalExec. */
  public SignalExecResponse signalExec(SignalExecRequest request) {
    return connection.call(() -> unary().signalExec(request));
  }

  /** ExecService.AttachExec: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<ExecEvent> attachExec(AttachExecRequest request) {
    return Stream.open(() -> streams().attachExec(request));
  }

  /** ExecService.GetExec. */
  public ExecInfo getExec(GetExecRequest request) {
    return connection.call(() -> unary().getExec(request));
  }

  /** ExecService.ListExecs. */
  public ListExecsResponse listExecs(ListExecsRequest request) {
    return connection.call(() -> unary().listExecs(request));
  }

  /** ExecService.GetArtifact: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<ArtifactChunk> getArtifact(GetArtifactRequest request) {
    return Stream.open(() -> streams().getArtifact(request));
  }
}
