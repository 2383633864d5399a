package dev.paddock.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RequestInfo;
import com.google.rpc.RetryInfo;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ExecStarted;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.ipc.v1.OutputChunk;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.ResourceUsage;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionState;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The shape of --json output: proto3 JSON mapping for messages, and the error object. */
class CliJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static String line(com.google.protobuf.MessageOrBuilder m) {
    return new String(Output.toLine(ProtoJson.toJson(m)), StandardCharsets.UTF_8);
  }

  @Test
  void anOutputEventIsOneLineWithBase64DataAndTheOffsetAsAString() {
    ExecEvent e = ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder()
        .setStream(OutputStream.OUTPUT_STREAM_STDERR).setData(ByteString.copyFromUtf8("a\nb\n")).setOffset(4096)).build();
    assertThat(line(e)).isEqualTo("{\"output\":{\"stream\":\"OUTPUT_STREAM_STDERR\",\"data\":\"YQpiCg==\",\"offset\":\"4096\"}}\n");
  }

  @Test
  void onlyTheSetOneofMemberAppears() {
    ExecEvent started = ExecEvent.newBuilder().setStarted(ExecStarted.newBuilder().setExecId("x1")
        .setStartTime(Timestamp.newBuilder().setSeconds(1_800_000_000L).setNanos(120_000_000))).build();
    assertThat(line(started)).isEqualTo("{\"started\":{\"execId\":\"x1\",\"startTime\":\"2027-01-15T08:00:00.120Z\"}}\n");
  }

  @Test
  void aResultPrintsEveryScalarEvenAtItsDefault() throws Exception {
    ExecEvent e = ExecEvent.newBuilder().setResult(ExecResult.newBuilder().setStatus(ExecStatus.EXEC_STATUS_OK)
        .setUsage(ResourceUsage.newBuilder().setWallTime(Durations.toProto(Duration.ofMillis(1500)))
            .setCpuUser(Durations.toProto(Duration.ofSeconds(2))).setPeakMemoryBytes(3 * 1024 * 1024))).build();
    JsonNode result = MAPPER.readTree(line(e)).get("result");
    assertThat(result.get("status").asText()).isEqualTo("EXEC_STATUS_OK");
    assertThat(result.get("exitCode").isInt()).isTrue();
    assertThat(result.get("exitCode").asInt()).isZero();
    assertThat(result.get("signal").asInt()).isZero();
    assertThat(result.get("violationSyscall").asText()).isEmpty();
    assertThat(result.get("reason").asText()).isEmpty();
    assertThat(result.get("outputTruncated").asBoolean()).isFalse();
    JsonNode usage = result.get("usage");
    assertThat(usage.get("wallTime").asText()).isEqualTo("1.500s");
    assertThat(usage.get("cpuUser").asText()).isEqualTo("2s");
    assertThat(usage.has("cpuSystem")).isFalse(); // an unset message field is left out
    assertThat(usage.get("peakMemoryBytes").isTextual()).isTrue();
    assertThat(usage.get("peakMemoryBytes").asText()).isEqualTo("3145728");
    assertThat(usage.get("stdoutBytes").asText()).isEqualTo("0");
  }

  @Test
  void aSessionHasLabelsAsAnObjectAndLimitsByTheirWidth() throws Exception {
    Session s = Session.newBuilder().setSessionId("s1").setState(SessionState.SESSION_STATE_ACTIVE)
        .setCreateTime(Timestamp.newBuilder().setSeconds(1_800_000_000L))
        .setIdleTimeout(Durations.toProto(Duration.ofMinutes(5)))
        .setLimits(ResourceLimits.newBuilder().setMemoryBytes(536870912L).setMaxProcesses(64).setCpuMillicores(500))
        .putLabels("team", "infra").putLabels("task", "t-1").setPolicy("default").build();
    JsonNode json = MAPPER.readTree(line(s));
    assertThat(json.get("sessionId").asText()).isEqualTo("s1");
    assertThat(json.get("state").asText()).isEqualTo("SESSION_STATE_ACTIVE");
    assertThat(json.get("createTime").asText()).isEqualTo("2027-01-15T08:00:00Z");
    assertThat(json.get("idleTimeout").asText()).isEqualTo("300s");
    assertThat(json.has("closeTime")).isFalse();
    assertThat(json.get("closeReason").asText()).isEqualTo("SESSION_CLOSE_REASON_UNSPECIFIED");
    assertThat(json.get("labels").get("team").asText()).isEqualTo("infra");
    assertThat(json.get("limits").get("memoryBytes").asText()).isEqualTo("536870912");
    assertThat(json.get("limits").get("maxProcesses").isInt()).isTrue();
    assertThat(json.get("limits").get("cpuMillicores").asInt()).isEqualTo(500);
  }

  @Test
  void emptyAndNestedMessages() throws Exception {
    assertThat(line(dev.paddock.ipc.v1.CloseSessionResponse.getDefaultInstance())).isEqualTo("{}\n");
    JsonNode f = MAPPER.readTree(line(FileInfo.newBuilder().setPath("a/b").setName("b").setMode(0644).setSizeBytes(-1L).build()));
    assertThat(f.get("mode").asInt()).isEqualTo(420);
    assertThat(f.get("sizeBytes").asText()).isEqualTo("18446744073709551615"); // uint64, unsigned
    assertThat(f.get("isDir").asBoolean()).isFalse();
    assertThat(f.get("symlinkTarget").asText()).isEmpty();
  }

  @Test
  void aRefusedCallIsAnErrorObjectWithReasonRequestIdAndDetails() throws Exception {
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage("limits.memory_bytes is below the minimum")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("INVALID_ARGUMENT").setDomain("paddock.dev")
            .putMetadata("field", "limits.memory_bytes").build()))
        .addDetails(Any.pack(RequestInfo.newBuilder().setRequestId("req_0123").build()))
        .addDetails(Any.pack(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
            .setField("limits.memory_bytes").setDescription("at least 16777216")).build()))
        .build();
    CallError error = CallError.of(dev.paddock.client.Paddock.typed(StatusProto.toStatusRuntimeException(status)));
    assertThat(error.human()).isEqualTo("error: INVALID_ARGUMENT: limits.memory_bytes is below the minimum (request req_0123)"
        + System.lineSeparator() + "  limits.memory_bytes: at least 16777216");
    assertThat(error.exitCode()).isEqualTo(120);
    String line = new String(Output.toLine(error.toJson()), StandardCharsets.UTF_8);
    assertThat(line).isEqualTo("{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"reason\":\"INVALID_ARGUMENT\","
        + "\"message\":\"limits.memory_bytes is below the minimum\",\"requestId\":\"req_0123\","
        + "\"metadata\":{\"field\":\"limits.memory_bytes\"},"
        + "\"fieldViolations\":[{\"field\":\"limits.memory_bytes\",\"description\":\"at least 16777216\"}]}}\n");
  }

  @Test
  void noWorkingJailExits121AndRetryInfoIsShown() {
    com.google.rpc.Status jail = com.google.rpc.Status.newBuilder().setCode(Code.FAILED_PRECONDITION_VALUE).setMessage("no working sandbox")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("JAIL_UNAVAILABLE").build())).build();
    assertThat(CallError.of(dev.paddock.client.Paddock.typed(StatusProto.toStatusRuntimeException(jail))).exitCode()).isEqualTo(121);
    com.google.rpc.Status busy = com.google.rpc.Status.newBuilder().setCode(Code.UNAVAILABLE_VALUE).setMessage("shutting down")
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("HOST_SHUTTING_DOWN").build()))
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(Durations.toProto(Duration.ofSeconds(2))).build())).build();
    CallError error = CallError.of(dev.paddock.client.Paddock.typed(StatusProto.toStatusRuntimeException(busy)));
    assertThat(error.human()).isEqualTo("error: HOST_SHUTTING_DOWN: shutting down (retry after 2s)");
    assertThat(error.toJson().get("error").get("retryDelay").asText()).isEqualTo("2s");
    assertThat(error.toJson().get("error").get("requestId").asText()).isEmpty();
  }

  @Test
  void aLibraryErrorUsesTheCodeAsReasonAndTheTrailerRequestId() {
    Metadata trailers = new Metadata();
    trailers.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), "req_77");
    StatusRuntimeException e = Status.UNAVAILABLE.withDescription("io exception")
        .withCause(new java.net.ConnectException("Connection refused")).asRuntimeException(trailers);
    CallError error = CallError.of(dev.paddock.client.Paddock.typed(e));
    assertThat(error.reason()).isEqualTo("UNAVAILABLE");
    assertThat(error.human()).isEqualTo("error: UNAVAILABLE: io exception: Connection refused (request req_77)");
    assertThat(error.toJson().get("error").get("metadata").isEmpty()).isTrue();
  }

  @Test
  void jsonModeErrorsGoToBothStreams() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Output output = new Output(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), true);
    assertThat(output.fail("no API key")).isEqualTo(120);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("{\"error\":{\"message\":\"no API key\"}}\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("error: no API key" + System.lineSeparator());
  }

  @Test
  void tablesAndShellQuoting() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Output output = new Output(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, false);
    output.table(java.util.List.of("A", "LONGER"), java.util.List.of(java.util.List.of("long value", "x")));
    String nl = System.lineSeparator();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("A            LONGER" + nl + "long value   x" + nl);
    assertThat(Output.shellJoin(java.util.List.of("sh", "-c", "echo 'hi' $X", ""))).isEqualTo("sh -c 'echo '\\''hi'\\'' $X' ''");
  }
}
