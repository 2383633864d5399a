package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The span tree of one exec, seen by the OpenTelemetry SDK's in-memory exporter, under the caller's traceparent. */
class TracingEndToEndTest extends SharedHostTest {
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();

  @Override
  dev.paddock.runtime.config.HostConfig configure(dev.paddock.runtime.config.HostConfig config) {
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    return config.withTracing(dev.paddock.runtime.trace.HostTracing.of(sdk));
  }

  @Test
  void oneExecIsASpanTreeUnderTheCallersTraceWithTheRequestIdOnEverySpan() throws Exception {
    String session = host.newSession(host.alphaKey);
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String callerSpan = "00f067aa0ba902b7";
    String requestId = "req-trace-test-1";
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + traceId + "-" + callerSpan + "-01");
    var execs = ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, requestId))
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).withDeadlineAfter(60, TimeUnit.SECONDS);
    // A tool that reports progress through the in-sandbox SDK: its IPC call is a span of the exec.
    execs.exec(ExecRequest.newBuilder().setSessionId(session).setIpc(true).addAllArgv(List.of("python3", "-c",
        "import paddock_agent as a; a.progress('half', 0.5)")).build()).forEachRemaining(e -> { });

    List<SpanData> tree = awaitTrace(traceId, 5);
    Map<String, SpanData> byName = tree.stream().collect(Collectors.toMap(SpanData::getName, s -> s, (a, b) -> a));
    SpanData call = byName.get("paddock.v1.ExecService/Exec");
    assertThat(call).as("spans: %s", byName.keySet()).isNotNull();
    assertThat(call.getParentSpanId()).isEqualTo(callerSpan); // the caller's traceparent is honoured
    assertThat(call.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.SERVER);
    SpanData exec = byName.get("paddock.exec");
    assertThat(exec.getParentSpanId()).isEqualTo(call.getSpanId());
    assertThat(exec.getAttributes().asMap().toString()).contains("paddock.exec_status=OK");
    assertThat(byName.get("paddock.admission").getParentSpanId()).isEqualTo(exec.getSpanId());
    assertThat(byName.get("paddock.audit.append").getParentSpanId()).isEqualTo(exec.getSpanId());
    assertThat(byName.get("paddock.ipc.progress")).as("spans: %s", byName.keySet()).isNotNull();
    assertThat(byName.get("paddock.ipc.progress").getParentSpanId()).isEqualTo(exec.getSpanId());
    assertThat(tree).allSatisfy(s -> {
      assertThat(s.getTraceId()).isEqualTo(traceId);
      assertThat(s.getAttributes().get(dev.paddock.runtime.trace.HostTracing.REQUEST_ID)).as(s.getName()).isEqualTo(requestId);
    });
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
  }

  @Test
  void aCallWithoutTraceparentStartsItsOwnTraceWithItsChildren() throws Exception {
    spans.reset();
    String session = host.newSession(host.betaKey); // beta's first session: no ready jail, so one starts inline
    List<SpanData> created = spans.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals("paddock.v1.SessionService/CreateSession")).toList();
    assertThat(created).hasSize(1);
    String trace = created.get(0).getTraceId();
    List<String> children = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(trace))
        .filter(s -> s.getParentSpanId().equals(created.get(0).getSpanId())).map(SpanData::getName).toList();
    assertThat(children).contains("paddock.admission", "paddock.jail.start");
    assertThat(created.get(0).getParentSpanContext().isValid()).isFalse();
    host.sessions(host.betaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
  }

  private List<SpanData> awaitTrace(String traceId, int atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<SpanData> mine = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
      if (mine.size() >= atLeast && mine.stream().anyMatch(s -> s.getName().equals("paddock.exec"))
          && mine.stream().anyMatch(s -> s.getName().equals("paddock.v1.ExecService/Exec"))
          || System.nanoTime() > deadline) {
        return mine;
      }
      Thread.sleep(50);
    }
  }
}
