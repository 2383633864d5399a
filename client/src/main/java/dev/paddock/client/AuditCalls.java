package dev.paddock.client;

import dev.paddock.ipc.v1.AuditCheckpoint;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.AuditServiceGrpc;
import dev.paddock.ipc.v1.ConsistencyProof;
import dev.paddock.ipc.v1.GetCheckpointRequest;
import dev.paddock.ipc.v1.GetConsistencyProofRequest;
import dev.paddock.ipc.v1.GetInclusionProofRequest;
import dev.paddock.ipc.v1.InclusionProof;
import dev.paddock.ipc.v1.StreamAuditRecordsRequest;
import java.time.Duration;

/**
 * AuditService: the tenant's audit log, its signed checkpoints and proofs. One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class AuditCalls extends ServiceCalls<AuditServiceGrpc.AuditServiceBlockingStub> {
  AuditCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private AuditCalls(Connection connection, Duration deadline) {
    super(connection, deadline, AuditServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public AuditCalls withDeadline(Duration deadline) {
    return new AuditCalls(connection, deadline);
  }

  /** AuditService.StreamAuditRecords: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<AuditRecord> streamAuditRecords(StreamAuditRecordsRequest request) {
    return Stream.open(() -> streams().streamAuditRecords(request));
  }

  /** AuditService.GetCheckpoint. */
  public AuditCheckpoint getCheckpoint(GetCheckpointRequest request) {
    return connection.call(() -> unary().getCheckpoint(request));
  }

  /** AuditService.GetInclusionProof. */
  public InclusionProof getInclusionProof(GetInclusionProofRequest request) {
    return connection.call(() -> unary().getInclusionProof(request));
  }

  /** AuditService.GetConsistencyProof. */
  public ConsistencyProof getConsistencyProof(GetConsistencyProofRequest request) {
    return connection.call(() -> unary().getConsistencyProof(request));
  }
}
