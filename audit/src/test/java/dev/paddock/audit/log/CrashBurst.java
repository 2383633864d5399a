package dev.paddock.audit.log;

import dev.paddock.audit.note.NoteSigner;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Run as its own process by {@link CrashSafetyTest}: opens the log in args[0] with the signer key
 * read from stdin, and appends args[1] records from 4 threads, printing "ack <sequence> <target>" for
 * each record as soon as the log acknowledged it. It is meant to be killed with SIGKILL mid-burst.
 */
public final class CrashBurst {
  private CrashBurst() {}

  public static void main(String[] args) throws Exception {
    NoteSigner signer = NoteSigner.parse(new String(System.in.readNBytes(4096)).strip());
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false);
    AuditLog log = AuditLog.open(Path.of(args[0]), signer, "crash-test/paddock-audit",
        new AuditLog.Settings(256 << 10, 512, 4096, Duration.ofMillis(100)), Clock.systemUTC());
    int n = Integer.parseInt(args[1]);
    String run = args[2];
    ExecutorService threads = Executors.newFixedThreadPool(4);
    for (int t = 0; t < 4; t++) {
      int thread = t;
      threads.execute(() -> {
        for (int i = thread; i < n; i += 4) {
          String target = run + "-" + i;
          CompletableFuture<AuditRecord> done = log.append(AuditLogTest.record("alpha", i).setTarget(target));
          AuditRecord written = done.join();
          synchronized (out) {
            out.println("ack " + written.getSequence() + " " + target);
            out.flush();
          }
        }
      });
    }
    threads.shutdown();
    threads.awaitTermination(1, java.util.concurrent.TimeUnit.HOURS);
    out.println("done");
    out.flush();
  }
}
