package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.runtime.testing.FakeJailProcess;
import dev.paddock.sandbox.SandboxResult;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exec streams with flow control: a slow reader slows the program (its pipe fills) and still gets
 * every byte in order; a reader that reads nothing for the stall timeout loses its call and its exec.
 */
class StreamFlowControlTest {
  /** A small replay window, so the primary reader's back-pressure reaches the program quickly. */
  private static final int WINDOW = 16 * 1024;
  private static final int TOTAL = 1 << 20;

  @TempDir Path temp;
  InProcessHost host;

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  /** Byte i of the program's stdout. */
  private static byte pattern(long i) {
    return (byte) ((i * 31 + (i >> 12)) & 0xff);
  }

  @Test
  void aSlowReaderGetsEveryByteInOrderAndHoldsTheProgramBack() throws Exception {
    host = new InProcessHost(temp, InProcessHost.settings(Duration.ofSeconds(10), WINDOW));
    host.launcher.program("produce", io -> {
      byte[] chunk = new byte[4096];
      for (long at = 0; at < TOTAL; at += chunk.length) {
        for (int i = 0; i < chunk.length; i++) {
          chunk[i] = pattern(at + i);
        }
        io.out(chunk);
      }
      io.err("done".getBytes());
      return io.exit(0);
    });
    String session = host.newSession(host.alphaKey);

    Iterator<ExecEvent> events = host.execs(host.alphaKey).exec(ExecRequest.newBuilder().setSessionId(session)
        .addArgv("produce").build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ExecEvent last = null;
    int n = 0;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasOutput() && e.getOutput().getStream() == OutputStream.OUTPUT_STREAM_STDOUT) {
        assertThat(e.getOutput().getOffset()).as("contiguous").isEqualTo(out.size());
        out.writeBytes(e.getOutput().getData().toByteArray());
        if (n++ < 20) {
          Thread.sleep(10); // a slow start: the program must wait for this reader
        }
      }
      last = e;
    }
    byte[] got = out.toByteArray();
    assertThat(got).hasSize(TOTAL);
    for (int i = 0; i < got.length; i++) {
      if (got[i] != pattern(i)) {
        throw new AssertionError("byte " + i + " differs");
      }
    }
    assertThat(last.hasResult()).isTrue();
    assertThat(last.getResult().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(last.getResult().getUsage().getStdoutBytes()).isEqualTo(TOTAL);
    assertThat(last.getResult().getOutputTruncated()).isFalse();
    assertThat(host.launcher.jail(session).lastProcess().fullPipeWaits())
        .as("the program found its pipe full: the reader held it back").isPositive();
  }

  @Test
  void aReaderThatReadsNothingForTheStallTimeoutLosesItsCallAndItsExec() throws Exception {
    host = new InProcessHost(temp, InProcessHost.settings(Duration.ofMillis(300), WINDOW));
    String session = host.newSession(host.alphaKey);

    ClientCall<ExecRequest, ExecEvent> call = host.channel(host.alphaKey, "stall-1")
        .newCall(ExecServiceGrpc.getExecMethod(), CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    CompletableFuture<Metadata> trailers = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata t) {
        trailers.complete(t);
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1); // ExecStarted, then this client reads nothing more
    call.sendMessage(ExecRequest.newBuilder().setSessionId(session).addArgv("yes").addArgv("stall").build());
    call.halfClose();

    FakeJailProcess program = host.awaitProcess(session);
    SandboxResult result = program.awaitResult();
    assertThat(result.status()).isEqualTo(SandboxResult.Status.KILLED);
    assertThat(program.cancelReason()).isEqualTo("the client read no output in time; the exec was killed");

    call.request(Integer.MAX_VALUE); // take what was buffered, then see how the call ended
    Status status = closed.get(5, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    InProcessHost.Failure f = InProcessHost.failure(status.asRuntimeException(trailers.get()));
    assertThat(f.info().getReason()).isEqualTo("CLIENT_STALLED");
    assertThat(f.requestId()).isEqualTo("stall-1");
    assertThat(f.detail(RetryInfo.class).getRetryDelay().getSeconds()).isZero();

    // the exec is over and says why
    String execId = host.execs(host.alphaKey).listExecs(ListExecsRequest.newBuilder().setSessionId(session).build())
        .getExecs(0).getExecId();
    ExecInfo info = host.awaitFinished(host.alphaKey, session, execId);
    assertThat(info.getResult().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(info.getResult().getReason()).contains("read no output");
  }
}
