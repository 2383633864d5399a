package dev.paddock.audit.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.audit.merkle.MerkleProofs;
import dev.paddock.audit.merkle.Rfc6962;
import dev.paddock.audit.note.Checkpoint;
import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  static final NoteSigner SIGNER = NoteSigner.generate("test-host/paddock-audit", new SecureRandom());
  static final String ORIGIN = "test-host/paddock-audit";

  @TempDir Path dir;

  static AuditRecord.Builder record(String tenant, int i) {
    return AuditRecord.newBuilder().setTenant(tenant).setActor("key:k" + i).setAction(AuditAction.AUDIT_ACTION_EXEC_STARTED)
        .setTarget("exec-" + i).setOutcome("OK").putAttributes("n", Integer.toString(i));
  }

  static AuditLog open(Path dir, long segmentBytes) throws Exception {
    return AuditLog.open(dir, SIGNER, ORIGIN, new AuditLog.Settings(segmentBytes, 512, 4096, Duration.ofMillis(200)),
        Clock.systemUTC());
  }

  /** Appends n records from several threads at once and waits for all of them. */
  static List<AuditRecord> appendAll(AuditLog log, int n) throws Exception {
    List<CompletableFuture<AuditRecord>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      futures.add(log.append(record(i % 2 == 0 ? "alpha" : "beta", i)));
    }
    List<AuditRecord> out = new ArrayList<>();
    for (CompletableFuture<AuditRecord> f : futures) {
      out.add(f.get(30, TimeUnit.SECONDS));
    }
    return out;
  }

  @Test
  void recordsAreNumberedInOrderReadBackAndProvable() throws Exception {
    try (AuditLog log = open(dir, 4096)) {
      List<AuditRecord> written = appendAll(log, 500);
      for (int i = 0; i < written.size(); i++) {
        assertThat(written.get(i).getSequence()).isEqualTo(i);
        assertThat(written.get(i).getTarget()).isEqualTo("exec-" + i);
      }
      assertThat(log.size()).isEqualTo(500);
      assertThat(Segments.list(dir)).as("4 KiB segments roll over").hasSizeGreaterThan(5);
      assertThat(log.read(0, 1000)).containsExactlyElementsOf(written);
      assertThat(log.read(137, 3)).containsExactlyElementsOf(written.subList(137, 140));
      assertThat(log.read(499, 10)).containsExactly(written.get(499));
      assertThat(log.read(500, 10)).isEmpty();
      // The leaf is the stored bytes, so an auditor can hash a record it was given.
      byte[] leaf = Rfc6962.leafHash(Records.serialize(written.get(321)));
      assertThat(log.leafHash(321)).isEqualTo(leaf);
      MerkleProofs.verifyInclusion(321, 500, leaf, log.inclusionProof(321, 500), log.root(500));
      MerkleProofs.verifyConsistency(100, 500, log.root(100), log.root(500), log.consistencyProof(100, 500));
    }
  }

  @Test
  void aCheckpointIsSignedWithinTheIntervalAndAtEverySegmentsEnd() throws Exception {
    try (AuditLog log = open(dir, 2048)) {
      appendAll(log, 100);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (log.latestCheckpoint() == null || !log.latestCheckpoint().startsWith(ORIGIN + "\n100\n")) {
        assertThat(System.nanoTime()).as("checkpoint of 100 records within the interval").isLessThan(deadline);
        Thread.sleep(20);
      }
      Checkpoint latest = Checkpoint.parse(NoteVerifier.parse(log.verifierKey()).open(log.latestCheckpoint()));
      assertThat(latest.rootHash()).isEqualTo(log.root(100));
      assertThat(Files.readString(dir.resolve("checkpoint"))).isEqualTo(log.latestCheckpoint());
      List<Segments.Segment> segments = Segments.list(dir);
      for (Segments.Segment sealed : segments.subList(0, segments.size() - 1)) {
        assertThat(sealed.checkpointFile()).exists();
      }
    }
  }

  /** An idle log's writer sleeps: it costs no CPU between records, checkpoint written or not. */
  @Test
  void anIdleWriterUsesNoCpu() throws Exception {
    try (AuditLog log = open(dir, 1 << 20)) {
      appendAll(log, 10);
      Thread.sleep(500); // the checkpoint (200 ms interval) is written meanwhile
      java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
      long writer = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().equals("paddock-audit-writer")).findFirst().orElseThrow().getId();
      long before = threads.getThreadCpuTime(writer);
      Thread.sleep(1000);
      long used = threads.getThreadCpuTime(writer) - before;
      assertThat(used).as("writer CPU over an idle second, ns").isLessThan(50_000_000L);
    }
  }

  @Test
  void sealedSegmentsAreShippedAndTheLogStillReadsAndVerifiesWithoutTheLocalCopies(@TempDir Path shipped) throws Exception {
    AuditLog.Settings settings = new AuditLog.Settings(2048, 512, 4096, Duration.ofMillis(200))
        .shippingTo(new DirectorySink(shipped));
    List<AuditRecord> written;
    try (AuditLog log = AuditLog.open(dir, SIGNER, ORIGIN, settings, Clock.systemUTC())) {
      written = appendAll(log, 300);
    }
    List<Segments.Segment> local = Segments.list(dir);
    List<Segments.Segment> copies = Segments.list(shipped);
    assertThat(copies).as("every sealed segment, with its checkpoint").hasSize(local.size() - 1)
        .allMatch(c -> Files.exists(c.checkpointFile()));
    // Retention: the operator removes the shipped segments here; the live one stays.
    for (Segments.Segment s : local.subList(0, local.size() - 1)) {
      Files.delete(s.file());
      Files.delete(s.checkpointFile());
    }
    NoteVerifier key = NoteVerifier.parse(SIGNER.verifierKey());
    assertThat(AuditVerifier.verify(List.of(dir), key).problem()).as("the live directory alone is not the log")
        .contains("missing");
    AuditVerifier.Report both = AuditVerifier.verify(List.of(dir, shipped), key);
    assertThat(both.problem()).isNull();
    assertThat(both.records()).isEqualTo(300);
    try (AuditLog log = AuditLog.open(dir, SIGNER, ORIGIN, settings, Clock.systemUTC())) {
      assertThat(log.size()).isEqualTo(300);
      assertThat(log.read(0, 300)).containsExactlyElementsOf(written);
      assertThat(log.append(record("beta", 300)).get(10, TimeUnit.SECONDS).getSequence()).isEqualTo(300);
    }
  }

  @Test
  void proofsOfOldRecordsAreRebuiltFromTheSegments() throws Exception {
    // More records than the tree caches blocks of (64 x 256): the first blocks are read back.
    int n = 64 * 256 + 1000;
    List<AuditRecord> written;
    try (AuditLog log = open(dir, 1 << 20)) {
      written = appendAll(log, n);
      for (long i : new long[] {0, 5, 255, 256, 9_999, n - 1}) {
        byte[] leaf = Rfc6962.leafHash(Records.serialize(written.get((int) i)));
        assertThat(log.leafHash(i)).isEqualTo(leaf);
        MerkleProofs.verifyInclusion(i, n, leaf, log.inclusionProof(i, n), log.root(n));
      }
      MerkleProofs.verifyConsistency(300, n, log.root(300), log.root(n), log.consistencyProof(300, n));
    }
    // Reopened (nothing cached): proofs still hold.
    try (AuditLog log = open(dir, 1 << 20)) {
      byte[] leaf = Rfc6962.leafHash(Records.serialize(written.get(42)));
      MerkleProofs.verifyInclusion(42, n, leaf, log.inclusionProof(42, n), log.root(n));
    }
  }

  @Test
  void reopeningKeepsEveryRecordAndGoesOn() throws Exception {
    List<AuditRecord> first;
    try (AuditLog log = open(dir, 4096)) {
      first = appendAll(log, 300);
    }
    try (AuditLog log = open(dir, 4096)) {
      assertThat(log.size()).isEqualTo(300);
      assertThat(log.read(0, 300)).containsExactlyElementsOf(first);
      assertThat(log.append(record("alpha", 300)).get(10, TimeUnit.SECONDS).getSequence()).isEqualTo(300);
    }
    assertThat(AuditVerifier.verify(List.of(dir), NoteVerifier.parse(SIGNER.verifierKey())).problem()).isNull();
  }

  /** Checkpoints are stored off the writer's path: a stop can come between a seal and its checkpoint. */
  @Test
  void aSealedSegmentWhoseCheckpointWasNotStoredGetsItOnOpen() throws Exception {
    try (AuditLog log = open(dir, 2048)) {
      appendAll(log, 300);
    }
    List<Segments.Segment> segments = Segments.list(dir);
    assertThat(segments).hasSizeGreaterThan(2);
    Segments.Segment sealed = segments.get(1);
    String stored = Files.readString(sealed.checkpointFile());
    Files.delete(sealed.checkpointFile());
    try (AuditLog log = open(dir, 2048)) {
      assertThat(log.size()).isEqualTo(300);
    }
    assertThat(Files.readString(sealed.checkpointFile())).as("the same tree, so the same checkpoint").isEqualTo(stored);
    assertThat(AuditVerifier.verify(List.of(dir), NoteVerifier.parse(SIGNER.verifierKey())).problem()).isNull();
  }

  @Test
  void aTornTailIsCutReportedAndRecorded() throws Exception {
    try (AuditLog log = open(dir, 1 << 20)) {
      appendAll(log, 10);
    }
    Path live = Segments.list(dir).get(0).file();
    long before = Files.size(live);
    // What a crash leaves of a write that never returned: a frame header and half its payload.
    Files.write(live, new byte[] {0, 0, 0, 100, 1, 2, 3, 4, 9, 9, 9}, StandardOpenOption.APPEND);
    try (AuditLog log = open(dir, 1 << 20)) {
      AuditRecord cut = log.read(10, 1).isEmpty() ? awaitRecord(log, 10) : log.read(10, 1).get(0);
      assertThat(cut.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_LOG_TAIL_CUT);
      assertThat(cut.getAttributesMap()).containsEntry("offset", Long.toString(before)).containsEntry("bytes", "11");
      assertThat(log.read(0, 10)).hasSize(10);
    }
  }

  private static AuditRecord awaitRecord(AuditLog log, long sequence) throws Exception {
    for (int i = 0; i < 500 && log.size() <= sequence; i++) {
      Thread.sleep(10);
    }
    return log.read(sequence, 1).get(0);
  }

  @Test
  void aDamagedSealedSegmentOrALogBehindItsCheckpointRefusesToOpen() throws Exception {
    try (AuditLog log = open(dir, 2048)) {
      appendAll(log, 200);
    }
    List<Segments.Segment> segments = Segments.list(dir);
    Path sealed = segments.get(0).file();
    byte[] bytes = Files.readAllBytes(sealed);
    bytes[Segments.HEADER_BYTES + 20] ^= 1;
    Files.write(sealed, bytes);
    assertThatThrownBy(() -> open(dir, 2048)).isInstanceOf(AuditLogException.class)
        .hasMessageContaining("sealed audit segment " + sealed.getFileName()).hasMessageContaining("record 0");
    bytes[Segments.HEADER_BYTES + 20] ^= 1;
    Files.write(sealed, bytes);
    // The live segment cut back by someone: the checkpoint of 200 records proves they existed.
    Path live = segments.get(segments.size() - 1).file();
    Files.write(live, java.util.Arrays.copyOf(Files.readAllBytes(live), Segments.HEADER_BYTES));
    assertThatThrownBy(() -> open(dir, 2048)).isInstanceOf(AuditLogException.class)
        .hasMessageContaining("latest signed checkpoint covers 200");
  }

  @Test
  void aFailedWriteFailsThatRecordAndEveryLaterOne() throws Exception {
    AuditLog log = open(dir, 1 << 20);
    try {
      appendAll(log, 5);
      // Making the directory's file system refuse writes is not possible without privileges we
      // must not use; an oversized record is refused alone and the log goes on.
      AuditRecord.Builder huge = record("alpha", 1).putAttributes("big", "x".repeat(Segments.MAX_RECORD_BYTES));
      assertThatThrownBy(() -> log.append(huge).get(10, TimeUnit.SECONDS)).hasMessageContaining("over the limit");
      assertThat(log.append(record("alpha", 6)).get(10, TimeUnit.SECONDS).getSequence()).isEqualTo(5);
    } finally {
      log.close();
    }
    assertThatThrownBy(() -> log.append(record("alpha", 7)).get(10, TimeUnit.SECONDS))
        .hasMessageContaining("closed");
  }

  /**
   * Callers write their own batches when the writer is idle and the writer rolls segments: many
   * threads at once over small segments lose, repeat and reorder nothing.
   */
  @Test
  void manyCallersAtOnceOverSmallSegmentsWriteEveryRecordOnceInOrder() throws Exception {
    int threads = 8;
    int each = 1500;
    List<java.util.concurrent.Future<List<CompletableFuture<AuditRecord>>>> results = new java.util.ArrayList<>();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try (AuditLog log = open(dir, 16 << 10)) {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(pool.submit(() -> {
          List<CompletableFuture<AuditRecord>> mine = new java.util.ArrayList<>();
          for (int i = 0; i < each; i++) {
            mine.add(log.append(record("t" + thread, i)));
            if (i % 100 == 0) {
              mine.get(i).get(10, TimeUnit.SECONDS); // now and then wait, as an exec does
            }
          }
          return mine;
        }));
      }
      java.util.Set<Long> sequences = new java.util.HashSet<>();
      for (var result : results) {
        for (CompletableFuture<AuditRecord> f : result.get(60, TimeUnit.SECONDS)) {
          assertThat(sequences.add(f.get(10, TimeUnit.SECONDS).getSequence())).isTrue();
        }
      }
      assertThat(sequences).hasSize(threads * each);
      assertThat(log.size()).isEqualTo(threads * each);
      assertThat(log.read(0, threads * each)).extracting(AuditRecord::getSequence)
          .containsExactlyElementsOf(java.util.stream.LongStream.range(0, threads * each).boxed().toList());
    } finally {
      pool.shutdownNow();
    }
    assertThat(Segments.list(dir)).hasSizeGreaterThan(10);
    assertThat(AuditVerifier.verify(List.of(dir), NoteVerifier.parse(SIGNER.verifierKey())).problem()).isNull();
  }

  /** A caller that was interrupted still gets its record written, and the log goes on. */
  @Test
  void anInterruptedCallerDoesNotStopTheLog() throws Exception {
    try (AuditLog log = open(dir, 1 << 20)) {
      CompletableFuture<CompletableFuture<AuditRecord>> appended = new CompletableFuture<>();
      CompletableFuture<Boolean> interruptKept = new CompletableFuture<>();
      Thread caller = new Thread(() -> {
        Thread.currentThread().interrupt();
        appended.complete(log.append(record("alpha", 0)));
        interruptKept.complete(Thread.currentThread().isInterrupted());
      });
      caller.start();
      caller.join(10_000);
      assertThat(appended.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS).getSequence()).isZero();
      assertThat(interruptKept.get(10, TimeUnit.SECONDS)).as("its interrupt is kept for it").isTrue();
      assertThat(log.writing()).isTrue();
      assertThat(log.append(record("alpha", 1)).get(10, TimeUnit.SECONDS).getSequence()).isEqualTo(1);
    }
  }
}
