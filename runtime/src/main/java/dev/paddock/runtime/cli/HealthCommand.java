package dev.paddock.runtime.cli;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code paddock health}: asks a host's standard gRPC health service whether it serves, for
 * container health checks and scripts. A host answers SERVING only while it can start jails.
 * Needs no API key.
 */
@Command(name = "health", mixinStandardHelpOptions = true,
    description = {"Asks the host's gRPC health service (grpc.health.v1) whether it serves: SERVING only while it"
        + " can start jails. Needs no API key (--api-key is ignored).",
        "Exit codes: 0 = SERVING; 1 = anything else, or no answer within --timeout (what a container health"
            + " check wants: yes or no)."})
final class HealthCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--timeout", defaultValue = "5s", paramLabel = "DURATION",
      description = "How long to wait for the answer, connecting included. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Override
  public Integer call() {
    Output out = new Output(System.out, System.err, client.json);
    ServingStatus status;
    try {
      status = client.builder().deadline(timeout).checkHealth();
    } catch (dev.paddock.client.PaddockException e) {
      out.fail(CallError.of(e));
      return 1;
    } catch (IllegalArgumentException | IllegalStateException e) {
      out.fail(e.getMessage());
      return 1;
    }
    if (out.json()) {
      out.json(Output.object().put("status", status.name()));
    } else {
      out.line(status.name());
    }
    return status == ServingStatus.SERVING ? 0 : 1;
  }
}
