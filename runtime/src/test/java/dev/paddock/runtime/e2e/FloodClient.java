package dev.paddock.runtime.e2e;

import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;

/**
 * A noisy tenant's client, run as its own (niced) process: StartExec of {@code true} in a loop from
 * a few threads, as fast as the host answers, whatever it answers. Arguments: port, key, session,
 * threads.
 */
public final class FloodClient {
  private FloodClient() {}

  public static void main(String[] args) throws Exception {
    Metadata auth = new Metadata();
    auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + args[1]);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(args[0])).usePlaintext()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(auth)).build();
    ExecServiceGrpc.ExecServiceBlockingStub execs = ExecServiceGrpc.newBlockingStub(channel);
    ExecRequest request = ExecRequest.newBuilder().setSessionId(args[2]).addArgv("true").build();
    for (int t = 0; t < Integer.parseInt(args[3]); t++) {
      new Thread(() -> {
        while (true) {
          try {
            execs.startExec(request);
          } catch (StatusRuntimeException e) {
            // refused by its budgets: a flood goes on regardless
          }
        }
      }).start();
    }
    System.in.read(); // ends when the test closes our stdin (or dies)
    System.exit(0);
  }
}
