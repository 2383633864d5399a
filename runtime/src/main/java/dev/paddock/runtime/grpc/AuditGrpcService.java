package dev.paddock.runtime.grpc;

import com.google.protobuf.ByteString;
import dev.paddock.audit.log.AuditLog;
import dev.paddock.audit.note.Checkpoint;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditCheckpoint;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.AuditServiceGrpc;
import dev.paddock.ipc.v1.ConsistencyProof;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.ipc.v1.GetCheckpointRequest;
import dev.paddock.ipc.v1.GetConsistencyProofRequest;
import dev.paddock.ipc.v1.GetInclusionProofRequest;
import dev.paddock.ipc.v1.InclusionProof;
import dev.paddock.ipc.v1.StreamAuditRecordsRequest;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Scope;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AuditService: a tenant's records streamed from the log's files, the latest signed checkpoint,
 * and inclusion and consistency proofs. Each stream reads on its own thread and sends only as fast
 * as its reader takes records, so a slow reader costs the log nothing.
 */
final class AuditGrpcService extends AuditServiceGrpc.AuditServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(AuditGrpcService.class);
  /** Records read from the files at a time. */
  private static final int READ_BATCH = 256;

  private final AuditLog auditLog;
  private final ExecutorService readers;

  AuditGrpcService(AuditLog auditLog, ExecutorService readers) {
    this.auditLog = auditLog;
    this.readers = readers;
  }

  @Override
  public void streamAuditRecords(StreamAuditRecordsRequest req, StreamObserver<AuditRecord> out) {
    Principal caller = AuthInterceptor.current();
    boolean all = caller.scopes().contains(Scope.ADMIN);
    ServerCallStreamObserver<AuditRecord> stream = (ServerCallStreamObserver<AuditRecord>) out;
    Object signal = new Object();
    Runnable wake = () -> {
      synchronized (signal) {
        signal.notifyAll();
      }
    };
    stream.setOnReadyHandler(wake);
    stream.setOnCancelHandler(wake);
    LongConsumer grown = size -> wake.run();
    long end = req.getFollow() ? Long.MAX_VALUE : auditLog.size();
    String requestId = RequestIds.current();
    Context context = Context.current();
    readers.execute(context.wrap(() -> {
      auditLog.addListener(grown);
      try {
        long next = req.getFromSequence();
        while (!stream.isCancelled() && next < end) {
          List<AuditRecord> batch = auditLog.read(next, (int) Math.min(READ_BATCH, end - next));
          if (batch.isEmpty()) {
            synchronized (signal) {
              if (auditLog.size() <= next && !stream.isCancelled()) {
                signal.wait(1000);
              }
            }
            continue;
          }
          for (AuditRecord record : batch) {
            next = record.getSequence() + 1;
            if (!all && !record.getTenant().equals(caller.tenantId())) {
              continue;
            }
            synchronized (signal) {
              while (!stream.isReady() && !stream.isCancelled()) {
                signal.wait(1000);
              }
            }
            if (stream.isCancelled()) {
              return;
            }
            stream.onNext(record);
          }
        }
        if (!stream.isCancelled()) {
          stream.onCompleted();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stream.onError(ErrorMapper.toStatusException(new PaddockException.Unavailable(ErrorReason.HOST_SHUTTING_DOWN,
            "the host is shutting down", java.time.Duration.ofSeconds(1)), requestId));
      } catch (IOException | RuntimeException e) {
        log.error("audit stream failed", e);
        stream.onError(ErrorMapper.toStatusException(e, requestId));
      } finally {
        auditLog.removeListener(grown);
      }
    }));
  }

  @Override
  public void getCheckpoint(GetCheckpointRequest req, StreamObserver<AuditCheckpoint> out) {
    SessionGrpcService.unary(out, () -> {
      String note = auditLog.latestCheckpoint();
      if (note == null) {
        throw new PaddockException.FailedPrecondition(ErrorReason.AUDIT_LOG_EMPTY, "the audit log has no checkpoint yet");
      }
      Checkpoint checkpoint = parse(note);
      return AuditCheckpoint.newBuilder().setSignedNote(note).setTreeSize(checkpoint.size())
          .setRootHash(ByteString.copyFrom(checkpoint.rootHash())).setVerifierKey(auditLog.verifierKey()).build();
    });
  }

  @Override
  public void getInclusionProof(GetInclusionProofRequest req, StreamObserver<InclusionProof> out) {
    SessionGrpcService.unary(out, () -> {
      long size = treeSize(req.getTreeSize());
      long index = req.getLeafIndex();
      if (index >= size) {
        throw new PaddockException.InvalidArgument("leaf_index", "must be below tree_size " + size);
      }
      Principal caller = AuthInterceptor.current();
      if (!caller.scopes().contains(Scope.ADMIN)) {
        List<AuditRecord> record = read(index);
        if (record.isEmpty() || !record.get(0).getTenant().equals(caller.tenantId())) {
          throw new PaddockException.NotFound(ErrorReason.AUDIT_RECORD_NOT_FOUND, "no such audit record",
              Map.of("sequence", Long.toString(index)));
        }
      }
      InclusionProof.Builder proof = InclusionProof.newBuilder().setLeafIndex(index).setTreeSize(size)
          .setLeafHash(ByteString.copyFrom(auditLog.leafHash(index))).setRootHash(ByteString.copyFrom(auditLog.root(size)));
      auditLog.inclusionProof(index, size).forEach(p -> proof.addProof(ByteString.copyFrom(p)));
      return proof.build();
    });
  }

  @Override
  public void getConsistencyProof(GetConsistencyProofRequest req, StreamObserver<ConsistencyProof> out) {
    SessionGrpcService.unary(out, () -> {
      long to = treeSize(req.getToSize());
      long from = req.getFromSize();
      if (from < 1 || from > to) {
        throw new PaddockException.InvalidArgument("from_size", "must be between 1 and to_size " + to);
      }
      ConsistencyProof.Builder proof = ConsistencyProof.newBuilder().setFromSize(from).setToSize(to)
          .setFromRoot(ByteString.copyFrom(auditLog.root(from))).setToRoot(ByteString.copyFrom(auditLog.root(to)));
      auditLog.consistencyProof(from, to).forEach(p -> proof.addProof(ByteString.copyFrom(p)));
      return proof.build();
    });
  }

  /** {@code requested}, or the latest checkpoint's size for 0; never past the durable log. */
  private long treeSize(long requested) {
    if (requested == 0) {
      String note = auditLog.latestCheckpoint();
      if (note == null) {
        throw new PaddockException.FailedPrecondition(ErrorReason.AUDIT_LOG_EMPTY, "the audit log has no checkpoint yet");
      }
      return parse(note).size();
    }
    if (requested > auditLog.size()) {
      throw new PaddockException.InvalidArgument("tree_size", "the log holds " + auditLog.size() + " records");
    }
    return requested;
  }

  private List<AuditRecord> read(long index) {
    try {
      return auditLog.read(index, 1);
    } catch (IOException e) {
      throw new PaddockException.Internal("the audit log could not be read", e);
    }
  }

  private Checkpoint parse(String note) {
    try {
      return Checkpoint.parse(NoteVerifier.parse(auditLog.verifierKey()).open(note));
    } catch (NoteException e) {
      throw new PaddockException.Internal("the audit log's checkpoint does not verify", e);
    }
  }
}
