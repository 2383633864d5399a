package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.paddock.audit.log.AuditVerifier;
import dev.paddock.audit.log.Segments;
import dev.paddock.audit.merkle.MerkleProofs;
import dev.paddock.audit.merkle.Rfc6962;
import dev.paddock.audit.note.Checkpoint;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditCheckpoint;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.AuditServiceGrpc;
import dev.paddock.ipc.v1.ChangeFileModeRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.GetCheckpointRequest;
import dev.paddock.ipc.v1.GetInclusionProofRequest;
import dev.paddock.ipc.v1.InclusionProof;
import dev.paddock.ipc.v1.MakeDirectoryRequest;
import dev.paddock.ipc.v1.RefreshSessionRequest;
import dev.paddock.ipc.v1.RemoveFileRequest;
import dev.paddock.ipc.v1.RenameFileRequest;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.StreamAuditRecordsRequest;
import dev.paddock.ipc.v1.UploadFileHeader;
import dev.paddock.ipc.v1.UploadFileRequest;
import dev.paddock.ipc.v1.UploadFileResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The audit trail over a real host: every call that changes state writes exactly one record (an
 * exec two: its start and its end; every IPC call one), durable before the answer; refusals are
 * recorded; a tenant streams only its own records, resumably; proofs and checkpoints check out.
 */
class AuditEndToEndTest extends SharedHostTest {
  private List<AuditRecord> records() throws Exception {
    return Segments.readAll(host.dataDir.resolve("audit"));
  }

  private Map<String, List<AuditRecord>> byRequestId() throws Exception {
    return records().stream().filter(r -> !r.getRequestId().isEmpty())
        .collect(Collectors.groupingBy(AuditRecord::getRequestId, LinkedHashMap::new, Collectors.toList()));
  }

  private SessionServiceGrpc.SessionServiceBlockingStub sessions(String requestId) {
    return SessionServiceGrpc.newBlockingStub(host.channel(host.alphaKey, requestId)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private FileServiceGrpc.FileServiceBlockingStub files(String requestId) {
    return FileServiceGrpc.newBlockingStub(host.channel(host.alphaKey, requestId)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private void upload(String requestId, String session, String path) throws Exception {
    CompletableFuture<UploadFileResponse> done = new CompletableFuture<>();
    StreamObserver<UploadFileRequest> up = FileServiceGrpc.newStub(host.channel(host.alphaKey, requestId))
        .uploadFile(new StreamObserver<>() {
          @Override
          public void onNext(UploadFileResponse r) {
            done.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    up.onNext(UploadFileRequest.newBuilder().setHeader(UploadFileHeader.newBuilder().setSessionId(session).setPath(path)).build());
    up.onNext(UploadFileRequest.newBuilder().setData(ByteString.copyFromUtf8("secret contents\n")).build());
    up.onCompleted();
    done.get(30, TimeUnit.SECONDS);
  }

  /** Table: each call made with its own request id, and the records it must have written. */
  @Test
  void everyCallThatChangesStateWritesExactlyOneRecord() throws Exception {
    String s = sessions("t-create").createSession(CreateSessionRequest.getDefaultInstance()).getSessionId();
    Map<String, AuditAction> expected = new LinkedHashMap<>();
    expected.put("t-create", AuditAction.AUDIT_ACTION_SESSION_CREATED);
    sessions("t-refresh").refreshSession(RefreshSessionRequest.newBuilder().setSessionId(s).build());
    expected.put("t-refresh", AuditAction.AUDIT_ACTION_SESSION_UPDATED);
    upload("t-upload", s, "in.txt");
    expected.put("t-upload", AuditAction.AUDIT_ACTION_FILE_WRITTEN);
    files("t-mkdir").makeDirectory(MakeDirectoryRequest.newBuilder().setSessionId(s).setPath("d").build());
    expected.put("t-mkdir", AuditAction.AUDIT_ACTION_FILE_WRITTEN);
    files("t-rename").renameFile(RenameFileRequest.newBuilder().setSessionId(s).setFromPath("in.txt").setToPath("d/in.txt").build());
    expected.put("t-rename", AuditAction.AUDIT_ACTION_FILE_WRITTEN);
    files("t-chmod").changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(s).setPath("d/in.txt").setMode(0600).build());
    expected.put("t-chmod", AuditAction.AUDIT_ACTION_FILE_WRITTEN);
    files("t-download").downloadFile(DownloadFileRequest.newBuilder().setSessionId(s).setPath("d/in.txt").build())
        .forEachRemaining(r -> { });
    expected.put("t-download", AuditAction.AUDIT_ACTION_FILE_READ);
    files("t-remove").removeFile(RemoveFileRequest.newBuilder().setSessionId(s).setPath("d").setRecursive(true).build());
    expected.put("t-remove", AuditAction.AUDIT_ACTION_FILE_WRITTEN);
    String started = ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "t-startexec"))
        .startExec(ExecRequest.newBuilder().setSessionId(s).addAllArgv(List.of("sleep", "30")).build()).getExecId();
    ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "t-signal"))
        .signalExec(SignalExecRequest.newBuilder().setSessionId(s).setExecId(started).setSignal(dev.paddock.ipc.v1.Signal.SIGNAL_KILL).build());
    expected.put("t-signal", AuditAction.AUDIT_ACTION_EXEC_SIGNALED);
    TestHost.collect(ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "t-exec"))
        .exec(ExecRequest.newBuilder().setSessionId(s).addAllArgv(List.of("echo", "hi")).build()));
    // An exec with IPC: its two calls are recorded beside its start and end.
    TestHost.collect(ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "t-ipc"))
        .exec(ExecRequest.newBuilder().setSessionId(s).setIpc(true).addAllArgv(List.of("python3", "-c",
            "import paddock_agent\npaddock_agent.progress('half', 0.5)\npaddock_agent.kv_put('k', b'v')")).build()));
    sessions("t-close").closeSession(CloseSessionRequest.newBuilder().setSessionId(s).build());
    expected.put("t-close", AuditAction.AUDIT_ACTION_SESSION_CLOSED);

    awaitFinished(started);
    Map<String, List<AuditRecord>> seen = byRequestId();
    expected.forEach((requestId, action) -> {
      assertThat(seen.get(requestId)).as(requestId).singleElement().satisfies(r -> {
        assertThat(r.getAction()).isEqualTo(action);
        assertThat(r.getTenant()).isEqualTo("alpha");
        assertThat(r.getActor()).startsWith("key:");
        assertThat(r.getOutcome()).isEqualTo("OK");
        assertThat(r.getTarget()).startsWith(requestId.equals("t-signal") ? started : s);
      });
    });
    assertThat(seen.get("t-upload").get(0).getTarget()).isEqualTo(s + ":in.txt");
    assertThat(seen.get("t-startexec")).extracting(AuditRecord::getAction)
        .containsExactly(AuditAction.AUDIT_ACTION_EXEC_STARTED, AuditAction.AUDIT_ACTION_EXEC_FINISHED);
    assertThat(seen.get("t-exec")).extracting(AuditRecord::getAction)
        .containsExactly(AuditAction.AUDIT_ACTION_EXEC_STARTED, AuditAction.AUDIT_ACTION_EXEC_FINISHED);
    assertThat(seen.get("t-exec").get(1).getOutcome()).isEqualTo("OK");
    assertThat(seen.get("t-exec").get(1).getUsage().hasWallTime()).isTrue();
    assertThat(seen.get("t-exec").get(0).getPolicyVersion()).matches("[a-z-]+@sha256:[0-9a-f]{16}");
    String ipcExec = seen.get("t-ipc").get(0).getTarget();
    List<AuditRecord> ipcCalls = records().stream()
        .filter(r -> r.getAction() == AuditAction.AUDIT_ACTION_IPC_CALL && r.getTarget().equals(ipcExec)).toList();
    assertThat(ipcCalls).extracting(r -> r.getAttributesOrThrow("operation")).containsExactly("progress", "kvPut");
    // No record holds what was uploaded.
    assertThat(records()).noneMatch(r -> r.toString().contains("secret contents"));
  }

  private void awaitFinished(String execId) throws Exception {
    for (int i = 0; i < 500; i++) {
      if (records().stream().anyMatch(r -> r.getAction() == AuditAction.AUDIT_ACTION_EXEC_FINISHED
          && r.getTarget().equals(execId))) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("exec " + execId + " never recorded its end");
  }

  @Test
  void refusedCallsAreRecorded() throws Exception {
    ManagedChannel bad = host.channel("pk_not-a-real-key", "t-badkey");
    assertThatThrownBy(() -> SessionServiceGrpc.newBlockingStub(bad).createSession(CreateSessionRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
    assertThatThrownBy(() -> sessions("t-nosession").closeSession(CloseSessionRequest.newBuilder().setSessionId("ses_nope").build()))
        .isInstanceOf(StatusRuntimeException.class);
    Map<String, List<AuditRecord>> seen = byRequestId();
    assertThat(seen.get("t-badkey")).singleElement().satisfies(r -> {
      assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_AUTH_FAILED);
      assertThat(r.getTenant()).isEmpty();
      assertThat(r.getOutcome()).startsWith("UNAUTHENTICATED");
    });
    assertThat(seen.get("t-nosession")).singleElement().satisfies(r -> {
      assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_SESSION_CLOSED);
      assertThat(r.getOutcome()).isEqualTo("SESSION_NOT_FOUND");
    });
  }

  @Test
  void aTenantStreamsItsOwnRecordsResumablyAndExactlyOnce() throws Exception {
    String a = host.newSession(host.alphaKey);
    String b = host.newSession(host.betaKey);
    host.exec(host.alphaKey, a, "true");
    host.exec(host.betaKey, b, "true");
    AuditServiceGrpc.AuditServiceBlockingStub alpha = AuditServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null));
    List<AuditRecord> all = new ArrayList<>();
    alpha.streamAuditRecords(StreamAuditRecordsRequest.getDefaultInstance()).forEachRemaining(all::add);
    assertThat(all).isNotEmpty().allMatch(r -> r.getTenant().equals("alpha"));
    assertThat(all).extracting(AuditRecord::getSequence).isSorted().doesNotHaveDuplicates();
    // Resumed from the middle: the rest, exactly once.
    long middle = all.get(all.size() / 2).getSequence();
    List<AuditRecord> rest = new ArrayList<>();
    alpha.streamAuditRecords(StreamAuditRecordsRequest.newBuilder().setFromSequence(middle + 1).build())
        .forEachRemaining(rest::add);
    assertThat(rest).containsExactlyElementsOf(all.subList(all.size() / 2 + 1, all.size()));
    // Beta's stream holds none of alpha's.
    List<AuditRecord> betas = new ArrayList<>();
    AuditServiceGrpc.newBlockingStub(host.channel(host.betaKey, null))
        .streamAuditRecords(StreamAuditRecordsRequest.getDefaultInstance()).forEachRemaining(betas::add);
    assertThat(betas).isNotEmpty().allMatch(r -> r.getTenant().equals("beta"));

    // Following: a new record arrives on an open stream.
    Iterator<AuditRecord> follow = AuditServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null))
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .streamAuditRecords(StreamAuditRecordsRequest.newBuilder().setFromSequence(all.get(all.size() - 1).getSequence() + 1)
            .setFollow(true).build());
    sessions("t-follow").closeSession(CloseSessionRequest.newBuilder().setSessionId(a).build());
    AuditRecord next = follow.next();
    assertThat(next.getRequestId()).isEqualTo("t-follow");
  }

  @Test
  void policyLoadsAndKeyChangesAreRecordedWithoutTheSecret() throws Exception {
    List<AuditRecord> atStart = records();
    assertThat(atStart).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_POLICY_LOADED)
        .extracting(AuditRecord::getTarget).containsExactlyInAnyOrder("default", "isolated");
    assertThat(atStart).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_POLICY_LOADED)
        .allMatch(r -> r.getPolicyVersion().startsWith(r.getTarget() + "@sha256:"));
    assertThat(atStart).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_KEY_CHANGED)
        .filteredOn(r -> r.getAttributesMap().get("change").equals("in-force"))
        .extracting(AuditRecord::getTenant).contains("alpha", "beta");

    // A session under the isolated policy is recorded under that policy's name.
    String isolated = sessions("t-isolated").createSession(CreateSessionRequest.newBuilder().setPolicy("isolated").build())
        .getSessionId();
    assertThat(records()).filteredOn(r -> r.getRequestId().equals("t-isolated")).singleElement()
        .satisfies(r -> assertThat(r.getTarget()).isEqualTo(isolated));
    host.exec(host.alphaKey, isolated, "true");
    assertThat(records()).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_EXEC_STARTED
        && r.getAttributesMap().get("session").equals(isolated)).singleElement()
        .satisfies(r -> assertThat(r.getPolicyVersion()).startsWith("isolated@sha256:"));

    dev.paddock.runtime.tenant.TenantAdmin admin = new dev.paddock.runtime.tenant.TenantAdmin(
        host.dataDir.resolve("tenants.yaml"), java.time.Clock.systemUTC());
    var added = admin.rotateKey("alpha", "audit-key-test");
    AuditRecord addedRecord = awaitKeyChange(added.keyId(), "added");
    assertThat(addedRecord.getTenant()).isEqualTo("alpha");
    assertThat(addedRecord.getActor()).isEqualTo("host");
    String secretHash = dev.paddock.runtime.tenant.ApiKeys.sha256Hex(added.key());
    assertThat(addedRecord.toString()).doesNotContain(added.key()).doesNotContain(secretHash);
    assertThat(admin.revokeKey("alpha", added.keyId())).isTrue();
    awaitKeyChange(added.keyId(), "removed");
  }

  /** The KEY_CHANGED record of {@code keyId} with {@code change}; calls keep the host noticing the file. */
  private AuditRecord awaitKeyChange(String keyId, String change) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      // Authenticating re-reads a changed tenants file (twice a second at most); the answer does not matter.
      try {
        AuditServiceGrpc.newBlockingStub(host.channel(host.betaKey, null)).getCheckpoint(GetCheckpointRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        // no checkpoint yet on a fresh log: the call was still authenticated
      }
      for (AuditRecord r : records()) {
        if (r.getAction() == AuditAction.AUDIT_ACTION_KEY_CHANGED && r.getTarget().equals(keyId)
            && change.equals(r.getAttributesMap().get("change"))) {
          return r;
        }
      }
      Thread.sleep(300);
    }
    throw new AssertionError("no KEY_CHANGED " + change + " record of " + keyId);
  }

  @Test
  void aStalledReaderDoesNotHoldUpTheLog() throws Exception {
    // A follower that never reads: its stream fills gRPC's window and then waits, alone.
    io.grpc.ClientCall<StreamAuditRecordsRequest, AuditRecord> stalled = host.channel(host.alphaKey, null)
        .newCall(AuditServiceGrpc.getStreamAuditRecordsMethod(), io.grpc.CallOptions.DEFAULT);
    stalled.start(new io.grpc.ClientCall.Listener<>() {}, new io.grpc.Metadata());
    stalled.sendMessage(StreamAuditRecordsRequest.newBuilder().setFollow(true).build());
    stalled.halfClose(); // and never request(n): nothing is ever delivered to it
    String s = host.newSession(host.alphaKey);
    long before = records().size();
    for (int i = 0; i < 60; i++) {
      host.exec(host.alphaKey, s, "true");
    }
    assertThat(records().size() - before).as("two records per exec, written meanwhile").isGreaterThanOrEqualTo(120);
    stalled.cancel("done", null);
  }

  @Test
  void checkpointsAndProofsVerifyWithThePublishedKey() throws Exception {
    String s = host.newSession(host.alphaKey);
    host.exec(host.alphaKey, s, "true");
    AuditServiceGrpc.AuditServiceBlockingStub audit = AuditServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null));
    AuditCheckpoint checkpoint = null;
    for (int i = 0; i < 100; i++) {
      try {
        checkpoint = audit.getCheckpoint(GetCheckpointRequest.getDefaultInstance());
        if (checkpoint.getTreeSize() >= records().size()) {
          break;
        }
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION); // none yet
      }
      Thread.sleep(50);
    }
    String verifierKey = Files.readString(host.dataDir.resolve("audit-verifier.key")).strip();
    assertThat(checkpoint.getVerifierKey()).isEqualTo(verifierKey);
    Checkpoint parsed = Checkpoint.parse(NoteVerifier.parse(verifierKey).open(checkpoint.getSignedNote()));
    assertThat(parsed.size()).isEqualTo(checkpoint.getTreeSize());
    // An alpha record is provably in the signed tree.
    List<AuditRecord> mine = records().stream().filter(r -> r.getTenant().equals("alpha")
        && r.getSequence() < parsed.size()).toList();
    AuditRecord record = mine.get(mine.size() - 1);
    InclusionProof proof = audit.getInclusionProof(GetInclusionProofRequest.newBuilder()
        .setLeafIndex(record.getSequence()).build());
    assertThat(proof.getLeafHash().toByteArray())
        .isEqualTo(Rfc6962.leafHash(dev.paddock.audit.log.Records.serialize(record)));
    MerkleProofs.verifyInclusion(record.getSequence(), parsed.size(), proof.getLeafHash().toByteArray(),
        proof.getProofList().stream().map(ByteString::toByteArray).toList(), parsed.rootHash());
    // Another tenant's record is not ours to prove.
    AuditRecord betas = records().stream().filter(r -> r.getTenant().equals("beta")).findFirst().orElse(null);
    if (betas != null && betas.getSequence() < parsed.size()) {
      assertThatThrownBy(() -> audit.getInclusionProof(GetInclusionProofRequest.newBuilder()
          .setLeafIndex(betas.getSequence()).build())).hasMessageContaining("NOT_FOUND");
    }
    // And the whole live log verifies offline.
    AuditVerifier.Report report = AuditVerifier.verify(List.of(host.dataDir.resolve("audit")), NoteVerifier.parse(verifierKey));
    assertThat(report.problem()).isNull();
  }
}
