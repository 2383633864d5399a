package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's examples (examples/java and examples/python) run as they are against a real host:
 * upload a CSV, run a script over it that reports progress through the in-sandbox SDK, download
 * the result, read the audit records of what ran.
 */
class ExamplesEndToEndTest extends SharedHostTest {
  private static final String EXPECTED_REPORT =
      "{\"by_region\": {\"east\": 200, \"north\": 120, \"south\": 80, \"west\": 100}, \"rows\": 4, \"total\": 500}";

  private static Path examples() {
    return dev.paddock.sandbox.JailRequirement.projectRoot().resolve("examples");
  }

  @Test
  void theJavaExamplePrintsTheReportAndItsAuditRecords() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    dev.paddock.examples.CsvReport.run("127.0.0.1:" + host.port(), host.alphaKey, examples(),
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    System.out.println(out);
    assertThat(out).contains("progress 25%: row 1 of 4", "progress 100%: row 4 of 4", "summed 4 rows",
        "report " + EXPECTED_REPORT, ": AUDIT_ACTION_EXEC_STARTED OK", ": AUDIT_ACTION_EXEC_FINISHED OK");
  }

  @Test
  void thePythonExamplePrintsTheReportAndItsAuditRecords() throws Exception {
    PythonClientEndToEndTest.installClient();
    dev.paddock.sandbox.ToolRun run = dev.paddock.sandbox.ToolRun.run(examples(), Map.of(
        "PADDOCK_SERVER", "127.0.0.1:" + host.port(), "PADDOCK_API_KEY", host.alphaKey), java.time.Duration.ofMinutes(5),
        java.util.List.of(PythonClientEndToEndTest.venv().resolve("bin/python").toString(), "python/csv_report.py"));
    System.out.println(run.output());
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output()).contains("progress 25%: row 1 of 4", "progress 100%: row 4 of 4", "summed 4 rows",
        "total 500 over 4 rows", ": AUDIT_ACTION_EXEC_STARTED OK", ": AUDIT_ACTION_EXEC_FINISHED OK");
  }
}
