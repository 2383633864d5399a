package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A stock gRPC client (grpcurl, with no proto files and no extra flags) sees everything through reflection. */
class GrpcurlEndToEndTest extends SharedHostTest {
  private dev.paddock.sandbox.ToolRun grpcurl(String... args) throws Exception {
    Path grpcurl = dev.paddock.sandbox.JailRequirement.projectRoot().resolve(".paddock/tools/grpcurl/grpcurl");
    // scripts/setup installs it; a machine without it is not set up (never a reason to skip).
    assertThat(grpcurl).as("grpcurl (run scripts/setup)").isExecutable();
    List<String> command = new ArrayList<>(List.of(grpcurl.toString(), "-plaintext"));
    command.addAll(List.of(args));
    return dev.paddock.sandbox.ToolRun.run(null, java.util.Map.of(), java.time.Duration.ofSeconds(30), command);
  }

  private String address() {
    return "127.0.0.1:" + host.port();
  }

  @Test
  void anErrorsDetailsAreDecodedByName() throws Exception {
    dev.paddock.sandbox.ToolRun run = grpcurl("-H", "authorization: Bearer " + host.alphaKey, "-d", "{\"session_id\": \"ses_nope\"}", address(),
        "paddock.v1.SessionService/GetSession");
    assertThat(run.exit()).as(run.output()).isNotZero();
    assertThat(run.output()).contains("Code: NotFound")
        .contains("\"@type\": \"type.googleapis.com/google.rpc.ErrorInfo\"")
        .contains("\"reason\": \"SESSION_NOT_FOUND\"").contains("\"domain\": \"paddock.dev\"")
        .contains("\"@type\": \"type.googleapis.com/google.rpc.RequestInfo\"").containsPattern("\"request_?[iI]d\": \"req_")
        .doesNotContain("could not resolve").doesNotContain("unknown type");

    // A refusal with a field violation (BadRequest) decodes too.
    dev.paddock.sandbox.ToolRun bad = grpcurl("-H", "authorization: Bearer " + host.alphaKey, "-d", "{}", address(),
        "paddock.v1.SessionService/GetSession");
    assertThat(bad.output()).contains("Code: InvalidArgument").contains("type.googleapis.com/google.rpc.BadRequest")
        .contains("\"field\": \"session_id\"");
  }

  @Test
  void describeShowsTheProtoComments() throws Exception {
    dev.paddock.sandbox.ToolRun method = grpcurl(address(), "describe", "paddock.v1.SessionService.GetSession");
    assertThat(method.exit()).as(method.output()).isZero();
    assertThat(method.output()).contains("// Returns one session of the caller's tenant.")
        .contains("rpc GetSession ( .paddock.v1.GetSessionRequest ) returns ( .paddock.v1.Session )");
    dev.paddock.sandbox.ToolRun message = grpcurl(address(), "describe", "paddock.v1.GetSessionRequest");
    assertThat(message.exit()).as(message.output()).isZero();
    assertThat(message.output()).contains("// Id of the session. Required (empty = INVALID_ARGUMENT).");
  }

  @Test
  void healthAndTheServiceListAnswerWithoutAKey() throws Exception {
    dev.paddock.sandbox.ToolRun health = grpcurl(address(), "grpc.health.v1.Health/Check");
    assertThat(health.exit()).as(health.output()).isZero();
    assertThat(health.output()).contains("\"status\": \"SERVING\"");
    dev.paddock.sandbox.ToolRun list = grpcurl(address(), "list");
    assertThat(list.output()).contains("paddock.v1.SessionService", "paddock.v1.ExecService", "paddock.v1.BrowserService",
        "grpc.health.v1.Health");
  }
}
