package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.paddock.ipc.v1.CloseSessionRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Prometheus (Debian's) scrapes the host's metrics endpoint; its queries see what the host did. */
class PrometheusEndToEndTest extends SharedHostTest {
  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Override
  dev.paddock.runtime.config.HostConfig configure(dev.paddock.runtime.config.HostConfig config) {
    return config.withMetrics(new dev.paddock.runtime.metrics.MetricsSettings(
        new java.net.InetSocketAddress("127.0.0.1", 0), true));
  }

  @Test
  void prometheusScrapesTheExecsAndCallsTheHostServed(@TempDir Path temp) throws Exception {
    // scripts/setup installs it; a machine without it is not set up (never a reason to skip).
    assertThat(PROMETHEUS).as("Debian's prometheus (run scripts/setup)").isExecutable();
    String session = host.newSession(host.alphaKey);
    for (String code : new String[] {"0", "0", "3"}) {
      host.exec(host.alphaKey, session, "sh", "-c", "exit " + code);
    }
    // A tool talking to the host through the in-sandbox SDK, and a call refused for its key.
    host.exec(host.alphaKey, dev.paddock.ipc.v1.ExecRequest.newBuilder().setSessionId(session).setIpc(true)
        .addAllArgv(java.util.List.of("python3", "-c", "import paddock_agent as a; a.progress('half', 0.5)")).build());
    org.assertj.core.api.Assertions.catchThrowable(() -> host.newSession("pdk_0000000000000000_nope"));
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());

    var metrics = host.server.metricsAddress();
    String scraped = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.getPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(scraped).contains("paddock_execs_finished_total{").contains("jvm_memory_used_bytes")
        .contains("grpc_server_processing_duration_seconds_bucket").contains("paddock_jail_healthy{service=\"paddock\"} 1.0")
        .contains("paddock_jail_start_duration_seconds_count").contains("paddock_audit_append_duration_seconds_count")
        .contains("paddock_audit_pending").contains("paddock_browser_breaker_state{provider=\"local\"")
        .containsPattern("paddock_ipc_requests_total\\{[^}]*tenant=\"alpha\"[^}]*\\} [1-9]")
        .containsPattern("paddock_denials_total\\{[^}]*reason=\"UNAUTHENTICATED_API_KEY\"[^}]*\\} [1-9]");

    int port = dev.paddock.sandbox.LoopbackPorts.free();
    Path config = temp.resolve("prometheus.yml");
    Files.writeString(config, String.join("\n",
        "global: {scrape_interval: 1s, evaluation_interval: 1s}",
        "scrape_configs:",
        "  - job_name: paddock",
        "    static_configs: [{targets: ['127.0.0.1:" + metrics.getPort() + "']}]", ""));
    Process prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + temp.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(temp.resolve("prometheus.log").toFile()).start();
    try {
      // Four execs of tenant alpha ended with status OK (exit codes 0, 0, 3, and the SDK's 0).
      assertThat(await(port, "sum(paddock_execs_finished_total{tenant=\"alpha\",status=\"OK\"})", "4"))
          .as(Files.readString(temp.resolve("prometheus.log"))).isEqualTo("4");
      assertThat(await(port, "sum(grpc_server_processing_duration_seconds_count{method=\"Exec\",statusCode=\"OK\"})", "4"))
          .isEqualTo("4");
      assertThat(await(port, "sum(paddock_sessions_closed_total{tenant=\"alpha\"})", "1")).isEqualTo("1");
    } finally {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
  }

  /** The query's value once it is {@code expected}, or the last value seen after 30 s ("" for none). */
  private static String await(int port, String query, String expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(5))
            .build(), HttpResponse.BodyHandlers.ofString());
        JsonNode result = new ObjectMapper().readTree(r.body()).path("data").path("result");
        last = result.size() == 0 ? "" : result.get(0).path("value").get(1).asText();
        if (last.equals(expected)) {
          return last;
        }
      } catch (java.io.IOException notUpYet) {
        // Prometheus is starting
      }
      Thread.sleep(500);
    }
    return last;
  }
}
