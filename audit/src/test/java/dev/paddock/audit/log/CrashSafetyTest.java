package dev.paddock.audit.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in the middle of a 10,000-record burst, ten times over one log: every record the log
 * acknowledged is there on reopening, with the contents acknowledged, and the log still verifies.
 */
class CrashSafetyTest {
  private static final NoteSigner SIGNER = NoteSigner.generate("crash-test/paddock-audit", new SecureRandom());

  @TempDir Path dir;

  @Test
  void noAcknowledgedRecordIsLostToKillMinus9() throws Exception {
    Random random = new Random(7);
    long expectedAtLeast = 0;
    for (int run = 0; run < 10; run++) {
      Process burst = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), CrashBurst.class.getName(), dir.toString(), "10000", "r" + run)
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      burst.getOutputStream().write(SIGNER.signerKey().getBytes(StandardCharsets.UTF_8));
      burst.getOutputStream().close();
      int killAfter = 500 + random.nextInt(8000);
      Map<Long, String> acked = new HashMap<>();
      try (BufferedReader in = new BufferedReader(new InputStreamReader(burst.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null && !line.equals("done")) {
          String[] parts = line.split(" ");
          acked.put(Long.parseLong(parts[1]), parts[2]);
          if (acked.size() == killAfter) {
            burst.destroyForcibly(); // SIGKILL: no shutdown hook, no close, no last fsync
            break;
          }
        }
      }
      burst.waitFor();
      assertThat(acked).as("run %d: acknowledgements before the kill", run).hasSize(killAfter);

      try (AuditLog log = AuditLog.open(dir, SIGNER, "crash-test/paddock-audit",
          new AuditLog.Settings(256 << 10, 512, 4096, Duration.ofMillis(100)), Clock.systemUTC())) {
        List<AuditRecord> all = log.read(0, Integer.MAX_VALUE);
        for (Map.Entry<Long, String> ack : acked.entrySet()) {
          assertThat(all.size()).as("run %d: record %d acknowledged", run, ack.getKey()).isGreaterThan(ack.getKey().intValue());
          assertThat(all.get(ack.getKey().intValue()).getTarget()).as("run %d: record %d", run, ack.getKey())
              .isEqualTo(ack.getValue());
        }
        assertThat(log.size()).isGreaterThanOrEqualTo(expectedAtLeast + killAfter);
        expectedAtLeast = log.size();
      }
      AuditVerifier.Report report = AuditVerifier.verify(List.of(dir), NoteVerifier.parse(SIGNER.verifierKey()));
      assertThat(report.problem()).as("run %d", run).isNull();
    }
  }
}
