package dev.paddock.examples;

import dev.paddock.client.Command;
import dev.paddock.client.ExecListener;
import dev.paddock.client.ExecOutcome;
import dev.paddock.client.Paddock;
import dev.paddock.client.Session;
import dev.paddock.client.Stream;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.ToolProgress;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A planner's view of Paddock: upload a CSV, run a script over it in a sandbox (it reports
 * progress through the in-sandbox SDK), download the result, and read the audit records of what
 * ran.
 *
 * <pre>
 * PADDOCK_SERVER=127.0.0.1:50051 PADDOCK_API_KEY=pdk_... java -cp ... dev.paddock.examples.CsvReport [examples-dir]
 * </pre>
 */
public final class CsvReport {
  private CsvReport() {}

  public static void main(String[] args) {
    String target = System.getenv().getOrDefault("PADDOCK_SERVER", "127.0.0.1:50051");
    run(target, System.getenv("PADDOCK_API_KEY"), Path.of(args.length > 0 ? args[0] : "examples"), System.out);
  }

  /** Runs the example against {@code target}, printing what happens to {@code out}. */
  public static void run(String target, String apiKey, Path examples, PrintStream out) {
    try (Paddock paddock = Paddock.builder().target(target).apiKey(apiKey).build()) {
      String execId;
      try (Session session = paddock.createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
          .putAllLabels(Map.of("example", "csv-report")).build())) {
        session.files().upload(examples.resolve("data/sales.csv"), "data/sales.csv");
        session.files().upload(examples.resolve("tool/report.py"), "report.py");
        ExecOutcome run = session.exec(Command.of("python3", "report.py").ipc(true), new ExecListener() {
          @Override
          public void progress(ToolProgress p) {
            out.printf("progress %.0f%%: %s%n", p.getFraction() * 100, p.getMessage());
          }
        });
        if (!run.ok()) {
          throw new IllegalStateException("the script failed (" + run.result().getStatus() + "): " + run.stderrText());
        }
        out.println(run.stdoutText().strip());
        out.println("report " + new String(session.files().read("out/report.json"), StandardCharsets.UTF_8));
        execId = run.execId();
      }
      try (Stream<AuditRecord> records = paddock.auditRecords(0, false)) {
        for (AuditRecord r : records) {
          if (r.getTarget().equals(execId)) {
            out.println("audit #" + r.getSequence() + ": " + r.getAction() + " " + r.getOutcome());
          }
        }
      }
    }
  }
}
