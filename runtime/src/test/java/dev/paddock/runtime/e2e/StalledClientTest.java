package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.JailRequirement;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client that stops reading an exec's output cannot hold the jail until the exec's time limit. */
class StalledClientTest {
  @TempDir Path temp;

  @Test
  void aClientThatReadsNothingHasItsExecKilledAfterTheStallTimeout() throws Exception {
    SessionSettings settings = SessionSettings.defaults().withClientStallTimeout(Duration.ofSeconds(2));
    try (TestHost host = new TestHost(temp, JailRequirement.nsjail(), settings)) {
      String session = host.newSession(host.alphaKey);
      String marker = "stall-" + System.nanoTime();
      ClientCall<ExecRequest, ExecEvent> call = host.channel(host.alphaKey, null)
          .newCall(ExecServiceGrpc.getExecMethod(), CallOptions.DEFAULT);
      CompletableFuture<Status> closed = new CompletableFuture<>();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.request(1); // the ExecStarted event, then nothing more: this client stops reading
      call.sendMessage(ExecRequest.newBuilder().setSessionId(session)
          .addAllArgv(List.of("sh", "-c", "yes " + marker))
          .setTimeLimit(com.google.protobuf.Duration.newBuilder().setSeconds(120)).build());
      call.halfClose();

      Thread.sleep(1000);
      assertThat(ExecEndToEndTest.processesWith(marker)).as("the exec runs while output is pending").isPositive();
      long deadline = System.currentTimeMillis() + 10_000;
      while (System.currentTimeMillis() < deadline && ExecEndToEndTest.processesWith(marker) > 0) {
        Thread.sleep(100);
      }
      assertThat(ExecEndToEndTest.processesWith(marker)).as("killed after the 2 s stall timeout").isZero();
      call.request(Integer.MAX_VALUE); // drain what was buffered, then see how the call ended
      Status status = closed.get(10, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(status.getDescription()).contains("read no output");
    }
  }
}
