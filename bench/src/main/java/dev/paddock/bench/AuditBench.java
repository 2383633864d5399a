package dev.paddock.bench;

import com.google.protobuf.ByteString;
import dev.paddock.audit.log.AuditLog;
import dev.paddock.audit.log.Records;
import dev.paddock.audit.note.NoteSigner;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Durable audit records per second, and how long an append waits for its acknowledgement, for the
 * audit log as the host runs it (protobuf records of about 300 bytes, RFC 6962 hashing, group
 * commit, a signed checkpoint every second) beside two baselines in the same run and directory:
 * one fsync per record, and raw group commit of the same bytes (one writer thread, one write and
 * one fsync per batch, no hashing, no protobuf), the floor to approach. Then the light-load case
 * an exec meets: one append at a time.
 *
 * <p>Usage: {@code scripts/bench-audit [--seconds N] [--producers N] [--window N] [--rate N] [--dir DIR]}: the
 * paced series offers {@code --rate} records a second in all (default 200,000), the load,
 * so its acknowledgement latency is that of the load and not of a queue kept full. Raw group commit
 * is paced the same way, so the disk's and scheduler's own tail at that load is printed beside the
 * log's.
 */
public final class AuditBench {
  private AuditBench() {}

  /** One series: records written, seconds taken, sampled ack latencies (ns). */
  /** One series: records acknowledged, wall time, this process's CPU time, sampled latencies. */
  record Series(String name, long records, double seconds, long cpuNanos, long[] latencies) {
    double perSecond() {
      return records / seconds;
    }

    double cpuMicrosPerRecord() {
      return records == 0 ? 0 : cpuNanos / 1e3 / records;
    }
  }

  /** How far ahead of its schedule a paced producer may run before it sleeps. */
  private static final long PACING_SLACK_NANOS = 1_000_000;

  /** CPU time of this process, every thread (writer, producers, GC, JIT) together. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  public static void main(String[] args) throws Exception {
    int seconds = 5;
    int producers = 4;
    int window = 4096;
    Path base = Path.of("/tmp");
    int rate = 200_000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--producers" -> producers = Integer.parseInt(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        case "--dir" -> base = Path.of(args[++i]);
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: scripts/bench-audit [--seconds N] [--producers N] [--window N] [--rate N] [--dir DIR]");
          System.exit(2);
        }
      }
    }
    Path dir = Files.createTempDirectory(base, "paddock-auditbench-");
    AuditRecord sample = record(0);
    byte[] bytes = Records.serialize(sample.toBuilder().setSequence(123_456_789).build());
    System.out.println(Machine.line());
    System.out.println("JVM options: " + String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
    System.out.printf("directory %s (%s); a record is %d bytes serialized; %d s per series, %d producers, window %d%n",
        dir, Files.getFileStore(dir).type(), bytes.length, seconds, producers, window);

    List<Series> all = new ArrayList<>();
    all.add(fsyncPerRecord(dir, bytes, seconds));
    all.add(rawGroupCommit(dir, bytes, seconds, producers, window, 0, "baseline: raw group commit, same bytes, no hashing"));
    all.add(auditLog(dir, seconds, producers, window, 0, "audit log (hashing, group commit, checkpoints)"));
    // Paced after the saturated runs: those warm the JIT, and a cold JIT is not what is measured here.
    all.add(rawGroupCommit(dir, bytes, seconds, producers, window, rate,
        String.format("baseline: raw group commit, paced at %,d/s", rate)));
    all.add(auditLog(dir, seconds, producers, window, rate, String.format("audit log, paced at %,d/s", rate)));
    all.add(auditLog(dir, seconds, 1, 1, 0, "audit log, one append at a time (an exec's case)"));

    System.out.printf("%n%-52s %12s %10s %10s %10s %12s%n", "series", "records/s", "ack p50", "ack p99", "ack max",
        "CPU us/rec");
    for (Series s : all) {
      Stats st = s.latencies().length == 0 ? null : Stats.of(s.latencies());
      System.out.printf("%-52s %12.0f %10s %10s %10s %12.2f%n", s.name(), s.perSecond(),
          st == null ? "-" : ms(st.p50()), st == null ? "-" : ms(st.p99()), st == null ? "-" : ms(st.max()),
          s.cpuMicrosPerRecord());
    }
    double log = all.get(2).perSecond();
    System.out.printf("%naudit log / fsync per record: %.1fx; audit log / raw group commit: %.2f (target: >= 200,000/s)%n",
        log / all.get(0).perSecond(), log / all.get(1).perSecond());
    long rawP99 = Stats.of(all.get(3).latencies()).p99();
    long logP99 = Stats.of(all.get(4).latencies()).p99();
    System.out.printf("ack p99 at %,d/s: audit log %s, raw group commit %s (%.2fx; target: audit log <= 5 ms)%n",
        rate, ms(logP99), ms(rawP99), (double) logP99 / rawP99);
    deleteTree(dir);
  }

  private static String ms(long nanos) {
    return String.format("%.3f ms", nanos / 1e6);
  }

  /** A record like the host's: an exec start, about 300 bytes. */
  static AuditRecord record(int i) {
    byte[] digest = new byte[32];
    Arrays.fill(digest, (byte) i);
    return AuditRecord.newBuilder().setTenant("tenant-" + (i % 8)).setRequestId("req_0123456789abcdef0123456789abcdef")
        .setClientRequestId("planner-7f3a9c2e-41d8-4b1e-9d7a-2c5e8f1b3a6d").setActor("key:key_89abcdef01234567")
        .setAction(AuditAction.AUDIT_ACTION_EXEC_STARTED).setTarget("exe_0123456789abcdef0123456789abcdef")
        .setArgumentsSha256(ByteString.copyFrom(digest)).setPolicyVersion("tool@sha256:1f2e3d4c5b6a7988")
        .setOutcome("OK").putAttributes("session", "ses_0123456789abcdef0123456789abcdef")
        .putAttributes("argv0", "python3").build();
  }

  private static Series fsyncPerRecord(Path dir, byte[] bytes, int seconds) throws IOException {
    Path file = dir.resolve("fsync-per-record");
    long n = 0;
    long cpu0 = processCpuNanos();
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    long[] lat = new long[1 << 16];
    int sampled = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer frame = ByteBuffer.allocate(bytes.length + 8);
      while (System.nanoTime() < end) {
        long t0 = System.nanoTime();
        frame.clear();
        frame.putInt(bytes.length).putInt(0).put(bytes).flip();
        while (frame.hasRemaining()) {
          ch.write(frame);
        }
        ch.force(false);
        if (sampled < lat.length) {
          lat[sampled++] = System.nanoTime() - t0;
        }
        n++;
      }
    }
    Files.delete(file);
    return new Series("baseline: one fsync per record", n, (System.nanoTime() - start) / 1e9,
        processCpuNanos() - cpu0, Arrays.copyOf(lat, sampled));
  }

  private record Pending(byte[] bytes, long t0, CompletableFuture<Void> done) {}

  private static Series rawGroupCommit(Path dir, byte[] bytes, int seconds, int producers, int window, int rate,
      String name) throws Exception {
    Path file = dir.resolve("raw-group-commit");
    BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(65536);
    AtomicBoolean stop = new AtomicBoolean();
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    Thread writer = new Thread(() -> {
      List<Pending> batch = new ArrayList<>();
      ByteBuffer out = ByteBuffer.allocate(8192 * (bytes.length + 8));
      try {
        while (!stop.get() || !queue.isEmpty()) {
          Pending first = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          batch.add(first);
          queue.drainTo(batch, 8191);
          out.clear();
          for (Pending p : batch) {
            out.putInt(p.bytes().length).putInt(0).put(p.bytes());
          }
          out.flip();
          while (out.hasRemaining()) {
            ch.write(out);
          }
          ch.force(false);
          batch.forEach(p -> p.done().complete(null));
          batch.clear();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "raw-writer");
    writer.start();
    Series s = drive(name, seconds, producers, window, rate, () -> {
      Pending p = new Pending(bytes, System.nanoTime(), new CompletableFuture<>());
      try {
        queue.put(p);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return p.done();
    });
    stop.set(true);
    writer.join();
    ch.close();
    Files.delete(file);
    return s;
  }

  private static Series auditLog(Path dir, int seconds, int producers, int window, int rate, String name)
      throws Exception {
    Path logDir = dir.resolve("log-" + producers + "-" + window);
    NoteSigner signer = NoteSigner.generate("bench/paddock-audit", new SecureRandom());
    AuditRecord base = record(1);
    try (AuditLog log = AuditLog.open(logDir, signer, signer.name(), AuditLog.Settings.defaults(), Clock.systemUTC())) {
      return drive(name, seconds, producers, window, rate, () -> log.append(base.toBuilder()).thenApply(r -> null));
    } finally {
      deleteTree(logDir);
    }
  }

  /**
   * Runs {@code producers} threads, each keeping up to {@code window / producers} appends in flight,
   * for {@code seconds}; samples every 16th acknowledgement's latency.
   */
  private static Series drive(String name, int seconds, int producers, int window, int rate,
      Supplier<CompletableFuture<?>> append) throws Exception {
    long interval = rate == 0 ? 0 : 1_000_000_000L * producers / rate; // ns between one producer's appends
    AtomicLong acked = new AtomicLong();
    long[] lat = new long[1 << 20];
    AtomicLong sampledAt = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    Semaphore inFlight = new Semaphore(window);
    long cpu0 = processCpuNanos();
    long start = System.nanoTime();
    for (int p = 0; p < producers; p++) {
      Thread t = new Thread(() -> {
        long n = 0;
        long next = System.nanoTime();
        while (!stop.get()) {
          if (interval > 0) {
            next += interval;
            long wait = next - System.nanoTime();
            // Sleep only when a millisecond ahead: a park per record (every 20 us) cost the
            // harness most of a core in wake-ups, taken from the writer it measures. An append
            // made early counts its latency from when it was made.
            if (wait > PACING_SLACK_NANOS) {
              java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
          }
          try {
            inFlight.acquire();
          } catch (InterruptedException e) {
            return;
          }
          long t0 = interval > 0 ? Math.min(next, System.nanoTime()) : System.nanoTime(); // from when it was due
          boolean sample = (n++ & 15) == 0;
          append.get().whenComplete((v, e) -> {
            long took = System.nanoTime() - t0;
            acked.incrementAndGet();
            if (sample) {
              long slot = sampledAt.getAndIncrement();
              if (slot < lat.length) {
                lat[(int) slot] = took;
              }
            }
            inFlight.release();
          });
        }
      }, "producer-" + p);
      threads.add(t);
      t.start();
    }
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    long count = acked.get();
    double took = (System.nanoTime() - start) / 1e9;
    long cpu = processCpuNanos() - cpu0;
    for (Thread t : threads) {
      t.join(); // each gets its permits back as its appends complete, sees the stop and ends
    }
    inFlight.acquire(window); // and every append still in flight is acknowledged
    return new Series(name, count, took, cpu, Arrays.copyOf(lat, (int) Math.min(lat.length, sampledAt.get())));
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
