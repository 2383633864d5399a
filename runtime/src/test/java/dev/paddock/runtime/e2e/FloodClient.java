package dev.paddock.runtime.e2e;

import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import io.grpc.StatusRuntimeException;

/**
 * A noisy tenant's client, run as its own (niced) process: StartExec of {@code true} in a loop from
 * a few threads, as fast as the host answers, whatever it answers. Arguments: port, key, session,
 * threads.
 */
public final class FloodClient {
  private FloodClient() {}

  public static void main(String[] args) throws Exception {
    ExecServiceGrpc.ExecServiceBlockingStub execs = LatencyClient.execs(args[0], args[1]);
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
