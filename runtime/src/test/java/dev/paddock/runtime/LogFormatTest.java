package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The host's logback.xml: text lines by default, JSON lines with PADDOCK_LOG_FORMAT=json, the call's ids on each. */
class LogFormatTest {
  private static String logOneLine(String format) throws Exception {
    PrintStream stderr = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      context.putProperty("PADDOCK_LOG_LEVEL", "INFO"); // the test JVM's own is WARN
      if (format != null) {
        context.putProperty("PADDOCK_LOG_FORMAT", format);
      }
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      context.getMDCAdapter().put("requestId", "req_0123");
      context.getMDCAdapter().put("tenant", "acme");
      context.getLogger("dev.paddock.runtime.session.SessionManager").info("session {} closes", "ses_1");
    } finally {
      context.getMDCAdapter().clear();
      context.stop();
      System.setErr(stderr);
    }
    return bytes.toString(StandardCharsets.UTF_8).strip();
  }

  @Test
  void jsonLinesCarryTheMessageLevelLoggerAndTheCallsIds() throws Exception {
    String line = logOneLine("json");
    assertThat(line.lines()).hasSize(1);
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.path("level").asText()).isEqualTo("INFO");
    assertThat(json.path("loggerName").asText()).isEqualTo("dev.paddock.runtime.session.SessionManager");
    assertThat(json.path("formattedMessage").asText()).isEqualTo("session ses_1 closes");
    assertThat(json.path("mdc").path("requestId").asText()).isEqualTo("req_0123");
    assertThat(json.path("mdc").path("tenant").asText()).isEqualTo("acme");
    assertThat(json.path("timestamp").asLong()).isPositive();
  }

  @Test
  void textIsTheDefault() throws Exception {
    assertThat(logOneLine(null)).matches("\\d{4}-\\d\\d-\\d\\dT\\S+ INFO  \\[req_0123\\] d\\.p\\.r\\.s\\.SessionManager - session ses_1 closes");
  }
}
