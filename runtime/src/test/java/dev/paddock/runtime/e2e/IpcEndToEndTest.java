package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.ArtifactChunk;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetArtifactRequest;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.IpcViolationKind;
import com.google.protobuf.util.Durations;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The typed IPC channel from real processes inside real jails, spoken by hand (struct + the
 * generated messages the host mounts at /opt/paddock/python), so every bad frame can be sent on
 * purpose. The SDKs' own end-to-end tests are in AgentSdkEndToEndTest.
 */
class IpcEndToEndTest extends SharedHostTest {
  /** A raw client: frame(env) sends, read() returns the next reply, call(env) both. */
  private static final String RAW = String.join("\n",
      "import os, socket, struct, sys",
      "from paddock.ipc.v1 import ipc_pb2 as p",
      "s = socket.socket(fileno=int(os.environ['PADDOCK_IPC_FD']))",
      "def send_raw(b): s.sendall(b)",
      "def frame(e): b = e.SerializeToString(); s.sendall(struct.pack('>I', len(b)) + b)",
      "def exact(n):",
      "    b = b''",
      "    while len(b) < n:",
      "        c = s.recv(n - len(b))",
      "        if not c: raise EOFError('host closed the channel')",
      "        b += c",
      "    return b",
      "def read():",
      "    n, = struct.unpack('>I', exact(4)); e = p.Envelope(); e.ParseFromString(exact(n)); return e",
      "def call(e): frame(e); return read()",
      "");

  private ExecRequest.Builder ipcExec(String session, String script) {
    return ExecRequest.newBuilder().setSessionId(session).setIpc(true)
        .addAllArgv(List.of("python3", "-c", RAW + script));
  }

  @Test
  void progressArtifactsFilesScratchAndToolsFromARealJail() throws Exception {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "assert os.environ['PADDOCK_IPC_MAX_FRAME'] == '4194304'",
        "assert call(p.Envelope(id=1, ping=p.PingRequest())).WhichOneof('body') == 'pong'",
        "print('before', flush=True)",
        "r = call(p.Envelope(id=2, progress=p.ProgressRequest(message='half', fraction=0.5)))",
        "assert r.id == 2 and r.progress_recorded.sequence == 0, r",
        "print('after', flush=True)",
        "r = call(p.Envelope(id=3, write_file=p.WriteFileRequest(path='out/report.txt', data=b'hello report', make_parents=True)))",
        "assert r.file_written.size_bytes == 12, r",
        "r = call(p.Envelope(id=4, read_file=p.ReadFileRequest(path='out/report.txt', offset=6)))",
        "assert r.file_data.data == b'report' and r.file_data.eof and r.file_data.size_bytes == 12, r",
        "r = call(p.Envelope(id=5, list_files=p.ListFilesRequest(path='out')))",
        "assert [e.path for e in r.file_list.entries] == ['out/report.txt'], r",
        "r = call(p.Envelope(id=6, artifact=p.ArtifactRequest(name='report.txt', workspace_path='out/report.txt', content_type='text/plain')))",
        "assert r.artifact_recorded.size_bytes == 12 and r.artifact_recorded.sequence == 1, r",
        "r = call(p.Envelope(id=7, artifact=p.ArtifactRequest(name='blob', data=b'\\x00\\x01\\x02')))",
        "assert r.artifact_recorded.sequence == 2, r",
        "r = call(p.Envelope(id=8, artifact=p.ArtifactRequest(name='blob', data=b'again')))",
        "assert r.error.reason == p.IPC_ERROR_ALREADY_EXISTS, r",
        "r = call(p.Envelope(id=9, read_file=p.ReadFileRequest(path='../etc/passwd')))",
        "assert r.error.reason == p.IPC_ERROR_INVALID_ARGUMENT, r",
        "r = call(p.Envelope(id=10, read_file=p.ReadFileRequest(path='missing')))",
        "assert r.error.reason == p.IPC_ERROR_NOT_FOUND and r.error.metadata['path'] == 'missing', r",
        "assert call(p.Envelope(id=11, kv_put=p.KvPutRequest(key='k', value=b'v1'))).HasField('kv_stored')",
        "r = call(p.Envelope(id=12, call_tool=p.CallToolRequest(name='browser.open')))",
        "assert r.error.reason == p.IPC_ERROR_NOT_AVAILABLE and r.error.metadata['tool'] == 'browser.open', r",
        "print('done', flush=True)")).build());
    assertThat(run.err()).isEmpty();
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.out()).isEqualTo("before\nafter\ndone\n");
    assertThat(run.result().getIpc().getRequests()).isEqualTo(12);
    assertThat(run.result().getIpc().getRejected()).isEqualTo(4);
    assertThat(run.result().getIpc().hasViolation()).isFalse();

    // The progress event sits between the output written before and after it was sent.
    List<ExecEvent> events = run.events();
    int progress = indexOf(events, ExecEvent.EventCase.PROGRESS);
    assertThat(events.get(progress).getProgress().getMessage()).isEqualTo("half");
    assertThat(events.get(progress).getProgress().getFraction()).isEqualTo(0.5);
    assertThat(events.subList(0, progress)).anyMatch(e -> e.hasOutput() && e.getOutput().getOffset() == 0);
    assertThat(events.subList(progress, events.size())).anyMatch(e -> e.hasOutput() && e.getOutput().getOffset() == 7);
    assertThat(events.stream().filter(ExecEvent::hasArtifact).map(e -> e.getArtifact().getName()))
        .containsExactly("report.txt", "blob");

    // Artifacts: listed on the exec, downloadable, replayed by AttachExec in the same order.
    var execs = host.execs(host.alphaKey);
    ExecInfo info = execs.getExec(GetExecRequest.newBuilder().setSessionId(session).setExecId(run.execId()).build());
    assertThat(info.getArtifactsList()).extracting(a -> a.getName()).containsExactly("report.txt", "blob");
    assertThat(info.getArtifacts(0).getContentType()).isEqualTo("text/plain");
    byte[] report = download(session, run.execId(), "report.txt");
    assertThat(new String(report, StandardCharsets.UTF_8)).isEqualTo("hello report");
    assertThat(info.getArtifacts(0).getSha256())
        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(report)));
    TestHost.Outcome replay = TestHost.collect(execs.attachExec(
        AttachExecRequest.newBuilder().setSessionId(session).setExecId(run.execId()).build()));
    assertThat(replay.events().stream().map(ExecEvent::getEventCase).filter(c -> c != ExecEvent.EventCase.OUTPUT))
        .containsExactly(ExecEvent.EventCase.STARTED, ExecEvent.EventCase.PROGRESS, ExecEvent.EventCase.ARTIFACT,
            ExecEvent.EventCase.ARTIFACT, ExecEvent.EventCase.RESULT);

    // Scratch state outlives the exec, within the session.
    TestHost.Outcome later = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "r = call(p.Envelope(id=1, kv_get=p.KvGetRequest(key='k')))",
        "print(r.kv_value.found, r.kv_value.value.decode())")).build());
    assertThat(later.out()).isEqualTo("True v1\n");
  }

  @Test
  void theSessionsPolicyDecidesWhatAToolMayAsk() {
    String session = host.sessions(host.alphaKey).createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
        .setPolicy("isolated").build()).getSessionId();
    TestHost.Outcome run = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "print(call(p.Envelope(id=1, ping=p.PingRequest())).WhichOneof('body'))",
        "for e in [p.Envelope(id=2, progress=p.ProgressRequest(message='x')),",
        "          p.Envelope(id=3, read_file=p.ReadFileRequest(path='a')),",
        "          p.Envelope(id=4, write_file=p.WriteFileRequest(path='a')),",
        "          p.Envelope(id=5, kv_get=p.KvGetRequest(key='a')),",
        "          p.Envelope(id=6, artifact=p.ArtifactRequest(name='a', data=b'x')),",
        "          p.Envelope(id=7, call_tool=p.CallToolRequest(name='a'))]:",
        "    r = call(e); print(p.IpcErrorReason.Name(r.error.reason), r.error.metadata['operation'])")).build());
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).isEqualTo(String.join("\n", "pong",
        "IPC_ERROR_PERMISSION_DENIED progress", "IPC_ERROR_PERMISSION_DENIED files_read",
        "IPC_ERROR_PERMISSION_DENIED files_write", "IPC_ERROR_PERMISSION_DENIED scratch",
        "IPC_ERROR_PERMISSION_DENIED artifacts", "IPC_ERROR_PERMISSION_DENIED tools", ""));
    assertThat(run.events()).noneMatch(e -> e.hasProgress() || e.hasArtifact());
  }

  @Test
  void withoutTheFlagThereIsNoChannel() {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, session, "python3", "-c",
        "import os; print(os.environ.get('PADDOCK_IPC_FD'), os.path.exists('/proc/self/fd/3'))");
    assertThat(run.out()).isEqualTo("None False\n");
  }

  @Test
  void eachBadFrameGetsItsTypedViolationWhileAnotherSessionCarriesOn() throws Exception {
    String bystanderSession = host.newSession(host.betaKey);
    CompletableFuture<TestHost.Outcome> bystander = CompletableFuture.supplyAsync(() -> host.exec(host.betaKey,
        ipcExec(bystanderSession, String.join("\n",
            "import time",
            "for i in range(40):",
            "    assert call(p.Envelope(id=i, ping=p.PingRequest())).HasField('pong')",
            "    print(i, flush=True); time.sleep(0.05)")).build()));
    String session = host.newSession(host.alphaKey);

    // Fatal: the stream can no longer be trusted; the exec is killed at once (it would sleep 60 s).
    assertFatal(session, "send_raw(struct.pack('>I', 5) + b'\\xff\\xff\\xff\\xff\\xff'); import time; time.sleep(60)",
        IpcViolationKind.IPC_VIOLATION_MALFORMED_FRAME, "is not an Envelope");
    assertFatal(session, "send_raw(struct.pack('>I', 5000000)); import time; time.sleep(60)",
        IpcViolationKind.IPC_VIOLATION_FRAME_TOO_LARGE, "5000000 bytes is over the limit of 4194304");
    assertFatal(session, "send_raw(struct.pack('>I', 100) + b'abc')",
        IpcViolationKind.IPC_VIOLATION_TRUNCATED_FRAME, "closed inside a frame");

    // Not fatal: only the request fails; the exec goes on and ends as it chooses.
    TestHost.Outcome unknown = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "send_raw(struct.pack('>I', 5) + bytes([0x08, 0x07, 0xea, 0x01, 0x00]))",  // id 7, field 29: no such request
        "r = read(); print(r.id, p.IpcErrorReason.Name(r.error.reason))",
        "r = call(p.Envelope(id=8, pong=p.PingReply())); print(r.id, p.IpcErrorReason.Name(r.error.reason))",
        "print(call(p.Envelope(id=9, ping=p.PingRequest())).WhichOneof('body'))")).build());
    assertThat(unknown.out()).isEqualTo("7 IPC_ERROR_UNKNOWN_REQUEST\n8 IPC_ERROR_UNKNOWN_REQUEST\npong\n");
    assertThat(unknown.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(unknown.result().getIpc().getViolation().getKind()).isEqualTo(IpcViolationKind.IPC_VIOLATION_UNKNOWN_REQUEST);
    assertThat(unknown.result().getIpc().getRejected()).isEqualTo(2);

    // A flood: requests past the rate are refused one by one, the rest are served.
    TestHost.Outcome flood = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "import threading",
        "N = 60000",
        "ping = p.Envelope(ping=p.PingRequest()).SerializeToString()",
        "def writer():",
        "    send_raw((struct.pack('>I', len(ping)) + ping) * N)",
        "threading.Thread(target=writer).start()",
        "kinds = {}",
        "for _ in range(N):",
        "    r = read(); k = r.WhichOneof('body') if r.WhichOneof('body') != 'error' else p.IpcErrorReason.Name(r.error.reason)",
        "    kinds[k] = kinds.get(k, 0) + 1",
        "print(sorted(kinds))")).build());
    assertThat(flood.out()).isEqualTo("['IPC_ERROR_RATE_LIMITED', 'pong']\n");
    assertThat(flood.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(flood.result().getIpc().getViolation().getKind()).isEqualTo(IpcViolationKind.IPC_VIOLATION_RATE_LIMITED);
    assertThat(flood.result().getIpc().getRequests()).isEqualTo(60000);

    TestHost.Outcome other = bystander.get(60, TimeUnit.SECONDS);
    assertThat(other.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(other.out().lines().count()).isEqualTo(40);
    assertThat(other.result().getIpc().hasViolation()).isFalse();
  }

  @Test
  void aToolThatNeverReadsItsRepliesCannotGrowTheHost() {
    String session = host.newSession(host.alphaKey);
    // 64 KiB replies, asked for 200000 times (12 GiB) without reading one: the host stops reading
    // the tool's requests once 1 MiB of replies wait, and the tool blocks in its own sendall.
    TestHost.Outcome run = host.exec(host.alphaKey, ipcExec(session, String.join("\n",
        "call(p.Envelope(id=1, kv_put=p.KvPutRequest(key='big', value=b'x' * 65536)))",
        "get = p.Envelope(kv_get=p.KvGetRequest(key='big')).SerializeToString()",
        "print('flooding', flush=True)",
        "send_raw((struct.pack('>I', len(get)) + get) * 200000)",
        "print('never here', flush=True)"))
        .setTimeLimit(Durations.fromSeconds(3)).build());
    assertThat(run.out()).isEqualTo("flooding\n");
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
    long peak = run.result().getIpc().getPeakBufferedBytes();
    assertThat(peak).isGreaterThan(1 << 20).isLessThan((1 << 20) + 2 * 65536 + 65536);
    assertThat(run.result().getIpc().getRequests()).isLessThan(200000);
  }

  private void assertFatal(String session, String script, IpcViolationKind kind, String detail) {
    long start = System.nanoTime();
    TestHost.Outcome run = host.exec(host.alphaKey, ipcExec(session, script).setTimeLimit(Durations.fromSeconds(60)).build());
    assertThat(run.result().getStatus()).as(run.err()).isEqualTo(ExecStatus.EXEC_STATUS_IPC_VIOLATION);
    assertThat(run.result().getIpc().getViolation().getKind()).isEqualTo(kind);
    assertThat(run.result().getIpc().getViolation().getDetail()).contains(detail);
    assertThat(run.result().getReason()).startsWith("IPC protocol violation: ");
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(20);
  }

  private byte[] download(String session, String exec, String name) {
    Iterator<ArtifactChunk> chunks = host.execs(host.alphaKey).getArtifact(
        GetArtifactRequest.newBuilder().setSessionId(session).setExecId(exec).setName(name).build());
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    while (chunks.hasNext()) {
      ArtifactChunk c = chunks.next();
      assertThat(c.getOffset()).isEqualTo(all.size());
      all.writeBytes(c.getData().toByteArray());
    }
    return all.toByteArray();
  }

  private static int indexOf(List<ExecEvent> events, ExecEvent.EventCase kind) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).getEventCase() == kind) {
        return i;
      }
    }
    throw new AssertionError("no " + kind + " event in " + events);
  }
}
