package dev.paddock.audit.log;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.paddock.audit.merkle.MerkleTree;
import dev.paddock.audit.merkle.Rfc6962;
import dev.paddock.audit.note.Checkpoint;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's audit log: records appended in order to segment files, acknowledged only once
 * fsynced, hashed into an RFC 6962 Merkle tree, with a signed checkpoint at least every second
 * while records arrive and at every segment's end.
 *
 * <p>Each caller numbers, serializes and leaf-hashes its own record (in parallel); one writer
 * thread takes whatever has queued, puts it back in sequence order, writes it with one
 * {@code write} and one {@code fsync} (group commit), adds it to the tree, then completes every
 * caller's future: a caller answers its own client only after that. When a write fails the log
 * stops accepting records (every later append fails): the host must refuse actions rather than run
 * them unrecorded.
 *
 * <p>Opening recovers: every record is read back and re-hashed; a partly written end of the live
 * segment (a batch a crash cut before its fsync returned, so nobody was told it was written) is
 * cut and reported as an {@code AUDIT_ACTION_LOG_TAIL_CUT} record; a damaged sealed segment, a
 * record out of sequence, or a log shorter than or different from its own latest signed checkpoint
 * refuse the open.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  /** Every this many records of a segment, its byte offset is kept for reads. */
  private static final int INDEX_EVERY = 64;

  /**
   * How the log writes.
   *
   * @param segmentBytes a segment is sealed and a new one started once it holds this many bytes
   * @param maxBatchRecords most records written with one fsync
   * @param queueCapacity most records waiting to be written; appends wait beyond it
   * @param checkpointInterval longest time new records go without a signed checkpoint
   */
  public record Settings(long segmentBytes, int maxBatchRecords, int queueCapacity, Duration checkpointInterval,
      SegmentSink sink) {
    public Settings(long segmentBytes, int maxBatchRecords, int queueCapacity, Duration checkpointInterval) {
      this(segmentBytes, maxBatchRecords, queueCapacity, checkpointInterval, null);
    }

    /** 64 MiB segments, batches of up to 8192 records, 65536 queued, a checkpoint every second. */
    public static Settings defaults() {
      return new Settings(64L << 20, 8192, 65536, Duration.ofSeconds(1));
    }

    /** The same settings shipping every sealed segment to {@code sink}. */
    public Settings shippingTo(SegmentSink sink) {
      return new Settings(segmentBytes, maxBatchRecords, queueCapacity, checkpointInterval, sink);
    }
  }

  private final Path dir;
  private final NoteSigner signer;
  private final String origin;
  private final Settings settings;
  private final Clock clock;
  private final BlockingQueue<Pending> queue;
  private final List<LongConsumer> listeners = new CopyOnWriteArrayList<>();
  private final Thread writer;
  /** Ships sealed segments, one at a time, in order. */
  private final java.util.concurrent.ExecutorService shipper = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "paddock-audit-shipper");
    t.setDaemon(true);
    return t;
  });
  /**
   * Signs and stores checkpoints, in order, off the writer's path: a checkpoint costs two fsyncs
   * and a rename (about 2 ms here), which callers waiting on the writer need not wait for.
   */
  private final java.util.concurrent.ExecutorService checkpointer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "paddock-audit-checkpointer");
    t.setDaemon(true);
    return t;
  });
  private final java.util.Queue<Segments.Segment> unshipped = new java.util.concurrent.ConcurrentLinkedQueue<>();

  // Guarded by "this": read by callers, changed by the writer thread.
  /**
   * Subtrees of 256 records and up in memory (a quarter byte a record); smaller ones inside a
   * proof's block are re-hashed from the segments, which are the log's truth anyway.
   */
  private final MerkleTree tree = new MerkleTree(KEPT_TREE_LEVEL, this::segmentLeafHashes);
  static final int KEPT_TREE_LEVEL = 8;
  private final List<SegmentIndex> segments = new ArrayList<>();
  private String latestCheckpoint;
  private Throwable broken;

  /** Guards the numbering: sequences and times are handed out in one order, and not after a close. */
  private final Object sequencer = new Object();
  private long nextSequence;

  /**
   * Held by whoever writes: a caller whose record is alone in the queue (it writes it itself), or
   * the writer thread (it batches under load, rolls full segments, has checkpoints signed when due,
   * and writes what a caller left).
   */
  private final ReentrantLock writeLock = new ReentrantLock();
  /** Set before the writer is unparked: there is work it must look at. */
  private volatile boolean writerSignalled;

  // Guarded by writeLock.
  /** Records that arrived ahead of a sequence still being prepared by its caller. */
  private final java.util.TreeMap<Long, Pending> early = new java.util.TreeMap<>();
  private long nextToWrite;
  /** The live segment. RandomAccessFile, not FileChannel: an interrupted caller cannot close it. */
  private RandomAccessFile active;
  private long activeBytes;
  private long checkpointedSize;
  private long lastCheckpointNanos;
  private volatile boolean closing;

  /** A record ready to write: numbered, serialized and leaf-hashed on its caller's thread. */
  private record Pending(long sequence, AuditRecord record, byte[] payload, byte[] leafHash,
      CompletableFuture<AuditRecord> done) {}

  /** A segment and a sparse index of where its records start. */
  private static final class SegmentIndex {
    final Segments.Segment segment;
    long records;
    long[] offsets = new long[16];

    SegmentIndex(Segments.Segment segment) {
      this.segment = segment;
    }

    void add(long offset) {
      if (records % INDEX_EVERY == 0) {
        int slot = (int) (records / INDEX_EVERY);
        if (slot == offsets.length) {
          offsets = java.util.Arrays.copyOf(offsets, offsets.length * 2);
        }
        offsets[slot] = offset;
      }
      records++;
    }
  }

  private AuditLog(Path dir, NoteSigner signer, String origin, Settings settings, Clock clock) {
    this.dir = dir;
    this.signer = signer;
    this.origin = origin;
    this.settings = settings;
    this.clock = clock;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    this.writer = new Thread(this::writeLoop, "paddock-audit-writer");
    writer.setDaemon(true);
  }

  /**
   * Opens (or creates, 0700) the log in {@code dir}, recovering it as the class comment says.
   * {@code origin} names the log in its checkpoints and must stay the same for its life.
   */
  public static AuditLog open(Path dir, NoteSigner signer, String origin, Settings settings, Clock clock)
      throws IOException, AuditLogException {
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    AuditLog auditLog = new AuditLog(dir, signer, origin, settings, clock);
    AuditRecord tailCut = auditLog.recover();
    auditLog.nextSequence = auditLog.tree.size();
    auditLog.nextToWrite = auditLog.tree.size();
    auditLog.shipLeftovers();
    auditLog.lastCheckpointNanos = System.nanoTime();
    auditLog.writer.start();
    if (tailCut != null) {
      auditLog.append(tailCut.toBuilder());
    }
    return auditLog;
  }

  /**
   * Queues {@code record} (its sequence and time are set here) and returns a future completed with
   * the record as written once it is on disk, or failed when it cannot be written. Waits while the
   * queue is full.
   */
  public CompletableFuture<AuditRecord> append(AuditRecord.Builder record) {
    CompletableFuture<AuditRecord> done = new CompletableFuture<>();
    AuditRecord given = record.build();
    AuditRecord unnumbered = given.getSequence() == 0 && !given.hasTime() ? given
        : given.toBuilder().clearSequence().clearTime().build();
    int bound = Records.numberedSizeBound(unnumbered);
    if (bound > Segments.MAX_RECORD_BYTES) {
      done.completeExceptionally(new IllegalArgumentException(
          "an audit record of about " + bound + " bytes is over the limit of " + Segments.MAX_RECORD_BYTES));
      return done;
    }
    long sequence;
    long now;
    synchronized (sequencer) {
      Throwable failure = brokenCause();
      if (failure != null || closing) {
        done.completeExceptionally(new AuditLogException("the audit log is not writing"
            + (failure == null ? " (it is closed)" : ": " + failure.getMessage()), failure));
        return done;
      }
      sequence = nextSequence++;
      now = clock.millis(); // under the lock: times never go back as sequences go up
    }
    // The work per record that parallelises runs here, on the caller's thread, not the writer's.
    Timestamp time = Timestamp.newBuilder().setSeconds(Math.floorDiv(now, 1000))
        .setNanos((int) Math.floorMod(now, 1000) * 1_000_000).build();
    byte[] payload = Records.serializeNumbered(unnumbered, sequence, time);
    AuditRecord numbered = unnumbered.toBuilder().setSequence(sequence).setTime(time).build();
    Pending pending = new Pending(sequence, numbered, payload, Rfc6962.leafHash(payload), done);
    // A numbered record must reach the writer (the log cannot skip a number): wait out interrupts.
    boolean interrupted = false;
    while (true) {
      try {
        queue.put(pending);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    lead();
    if (!writer.isAlive()) {
      failLeftovers(); // the writer ended (closed or failed) while this record was on its way
    }
    return done;
  }

  /** How many records are durably written (the next record's sequence). */
  public synchronized long size() {
    return tree.size();
  }

  /** The root of the tree of the first {@code treeSize} records. */
  public synchronized byte[] root(long treeSize) {
    return tree.root(treeSize);
  }

  /** The inclusion proof of record {@code index} in the tree of the first {@code treeSize} records. */
  public synchronized List<byte[]> inclusionProof(long index, long treeSize) {
    return tree.inclusionProof(index, treeSize);
  }

  /** The consistency proof from the tree of {@code size1} records to that of {@code size2}. */
  public synchronized List<byte[]> consistencyProof(long size1, long size2) {
    return tree.consistencyProof(size1, size2);
  }

  /** The leaf hash of record {@code index}. */
  public synchronized byte[] leafHash(long index) {
    return tree.leafHash(index);
  }

  /** The latest signed checkpoint exactly as stored, or null before the first one. */
  public synchronized String latestCheckpoint() {
    return latestCheckpoint;
  }

  /** The public key verifiers need, in signed-note verifier-key form. */
  public String verifierKey() {
    return signer.verifierKey();
  }

  /**
   * Calls {@code listener} with the new durable size after every written batch, on the writer
   * thread: it must only hand the news on, never block.
   */
  public void addListener(LongConsumer listener) {
    listeners.add(listener);
  }

  public void removeListener(LongConsumer listener) {
    listeners.remove(listener);
  }

  /** Up to {@code max} durable records from sequence {@code from} on, read back from the segments. */
  public List<AuditRecord> read(long from, int max) throws IOException {
    List<AuditRecord> out = new ArrayList<>();
    for (byte[] payload : readPayloads(from, max)) {
      out.add(AuditRecord.parseFrom(payload));
    }
    return out;
  }

  /** The leaf hashes of records {@code from} to {@code from + count - 1}, for the tree (under this lock). */
  private List<byte[]> segmentLeafHashes(long from, int count) {
    try {
      List<byte[]> out = new ArrayList<>(count);
      for (byte[] payload : readPayloads(from, count)) {
        out.add(Rfc6962.leafHash(payload));
      }
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("the audit segments holding records " + from + " to " + (from + count - 1)
          + " cannot be read", e);
    }
  }

  /** The stored bytes of up to {@code max} durable records from sequence {@code from} on. */
  private List<byte[]> readPayloads(long from, int max) throws IOException {
    List<byte[]> out = new ArrayList<>();
    Segments.Segment segment;
    long offset;
    long firstAtOffset;
    long end;
    synchronized (this) {
      end = Math.min(tree.size(), from + max);
      if (from >= end) {
        return out;
      }
      int i = segments.size() - 1;
      while (segments.get(i).segment.firstSequence() > from) {
        i--;
      }
      SegmentIndex index = segments.get(i);
      long within = from - index.segment.firstSequence();
      int slot = (int) (within / INDEX_EVERY);
      segment = index.segment;
      offset = index.offsets[slot];
      firstAtOffset = index.segment.firstSequence() + (long) slot * INDEX_EVERY;
    }
    long sequence = firstAtOffset;
    while (sequence < end) {
      try (FileChannel channel = FileChannel.open(segment.file(), StandardOpenOption.READ)) {
        ByteBuffer frameHeader = ByteBuffer.allocate(Segments.FRAME_HEADER_BYTES);
        while (sequence < end) {
          frameHeader.clear();
          if (readFully(channel, frameHeader, offset) < Segments.FRAME_HEADER_BYTES) {
            break; // this segment ends here; the next one goes on
          }
          int length = frameHeader.getInt(0);
          ByteBuffer payload = ByteBuffer.allocate(length);
          readFully(channel, payload, offset + Segments.FRAME_HEADER_BYTES);
          offset += Segments.FRAME_HEADER_BYTES + length;
          if (sequence >= from) {
            out.add(payload.array());
          }
          sequence++;
        }
      }
      if (sequence < end) {
        synchronized (this) {
          segment = segmentStarting(sequence);
        }
        offset = Segments.HEADER_BYTES;
      }
    }
    return out;
  }

  private Segments.Segment segmentStarting(long sequence) throws IOException {
    for (SegmentIndex index : segments) {
      if (index.segment.firstSequence() == sequence) {
        return index.segment;
      }
    }
    throw new IOException("no audit segment starts at record " + sequence);
  }

  private static int readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    int total = 0;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  /** True while records are accepted: not closed, and no write has failed. */
  public synchronized boolean writing() {
    return broken == null && !closing;
  }

  private synchronized Throwable brokenCause() {
    return broken;
  }

  // ---- recovery ----

  private AuditRecord recover() throws IOException, AuditLogException {
    List<Segments.Segment> found = Segments.list(dir);
    if (settings.sink() != null) {
      // Sealed segments removed here after shipping are read from where they were shipped.
      java.util.Set<Long> local = new java.util.HashSet<>();
      found.forEach(seg -> local.add(seg.firstSequence()));
      List<Segments.Segment> all = new ArrayList<>(found);
      for (Segments.Segment shipped : settings.sink().shipped()) {
        if (!local.contains(shipped.firstSequence())) {
          all.add(shipped);
        }
      }
      all.sort((a, b) -> Long.compare(a.firstSequence(), b.firstSequence()));
      found = all;
    }
    AuditRecord tailCut = null;
    for (int s = 0; s < found.size(); s++) {
      Segments.Segment segment = found.get(s);
      boolean live = s == found.size() - 1;
      SegmentScan scan = SegmentScan.read(segment.file());
      if (scan.firstSequence() != segment.firstSequence() || segment.firstSequence() != tree.size()) {
        throw new AuditLogException("audit segment " + segment.file().getFileName() + " should start at record "
            + tree.size() + " but starts at " + scan.firstSequence() + ": a segment is missing or misnamed");
      }
      SegmentIndex index = new SegmentIndex(segment);
      for (SegmentScan.Frame frame : scan.frames()) {
        long expected = tree.size();
        AuditRecord record;
        try {
          record = AuditRecord.parseFrom(frame.payload());
        } catch (InvalidProtocolBufferException e) {
          throw new AuditLogException("audit record " + expected + " (" + segment.file().getFileName() + " at byte "
              + frame.offset() + ") is not a record");
        }
        if (record.getSequence() != expected) {
          throw new AuditLogException("audit record " + expected + " (" + segment.file().getFileName() + " at byte "
              + frame.offset() + ") has sequence " + record.getSequence() + ": records were removed or reordered");
        }
        tree.appendLeafHash(Rfc6962.leafHash(frame.payload()));
        index.add(frame.offset());
      }
      if (!scan.clean()) {
        if (!live) {
          throw new AuditLogException("sealed audit segment " + segment.file().getFileName() + " is damaged at record "
              + tree.size() + " (byte " + scan.endOffset() + "): " + scan.problem());
        }
        long cut = scan.fileLength() - scan.endOffset();
        try (FileChannel channel = FileChannel.open(segment.file(), StandardOpenOption.WRITE)) {
          channel.truncate(scan.endOffset());
          channel.force(true);
        }
        log.warn("audit log: cut {} bytes of an unacknowledged write from the end of {} ({}); the log ends at record {}",
            cut, segment.file().getFileName(), scan.problem(), tree.size() - 1);
        tailCut = AuditRecord.newBuilder().setActor("host").setAction(AuditAction.AUDIT_ACTION_LOG_TAIL_CUT)
            .setTarget(segment.file().getFileName().toString()).setOutcome("OK")
            .putAttributes("offset", Long.toString(scan.endOffset())).putAttributes("bytes", Long.toString(cut))
            .putAttributes("problem", scan.problem()).build();
      }
      segments.add(index);
      if (!live && !Files.exists(segment.checkpointFile())) {
        // Sealed, and a stop came before the checkpointer stored its checkpoint: store it now.
        try {
          writeAtomically(segment.checkpointFile(),
              signer.sign(new Checkpoint(origin, tree.size(), tree.root(tree.size()), List.of()).text()));
        } catch (NoteException e) {
          throw new IOException("signing the checkpoint of sealed segment " + segment.file().getFileName() + " failed", e);
        }
      }
    }
    checkAgainstLatestCheckpoint();
    Segments.Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1).segment;
    if (last == null || Files.exists(last.checkpointFile())) {
      startSegment(); // none yet, or the last was sealed just before a stop
    } else {
      active = new RandomAccessFile(last.file().toFile(), "rw");
      activeBytes = active.length();
      active.seek(activeBytes);
    }
    return tailCut;
  }

  private String textOf(String note) throws AuditLogException {
    try {
      return NoteVerifier.parse(signer.verifierKey()).open(note);
    } catch (NoteException e) {
      throw new AuditLogException("the audit log's latest checkpoint does not verify with its own key: " + e.getMessage());
    }
  }

  private void checkAgainstLatestCheckpoint() throws IOException, AuditLogException {
    Path file = dir.resolve(Segments.LATEST_CHECKPOINT);
    if (!Files.exists(file)) {
      return;
    }
    String note = Files.readString(file, StandardCharsets.UTF_8);
    Checkpoint checkpoint;
    try {
      checkpoint = Checkpoint.parse(textOf(note));
    } catch (NoteException e) {
      throw new AuditLogException("the audit log's latest checkpoint is malformed: " + e.getMessage());
    }
    if (!checkpoint.origin().equals(origin)) {
      throw new AuditLogException("the audit log's latest checkpoint is for log \"" + checkpoint.origin()
          + "\", not \"" + origin + "\"");
    }
    if (checkpoint.size() > tree.size()) {
      throw new AuditLogException("the audit log holds " + tree.size() + " records but its latest signed checkpoint covers "
          + checkpoint.size() + ": records " + tree.size() + " to " + (checkpoint.size() - 1) + " are missing");
    }
    if (!java.security.MessageDigest.isEqual(tree.root(checkpoint.size()), checkpoint.rootHash())) {
      throw new AuditLogException("the audit log's first " + checkpoint.size()
          + " records do not match its latest signed checkpoint: records were changed");
    }
    latestCheckpoint = note;
    checkpointedSize = checkpoint.size();
  }

  // ---- writing ----
  // A caller queues its record, then either writes it itself (alone, lock free) or unparks the
  // writer; a caller that wrote and finds more queued unparks it too. The writer looks at the queue
  // after each turn and before it parks, so no record waits for its 100 ms sweep.

  /** What a turn at the lock did, reported to callers and listeners after the lock is let go. */
  private static final class Turn {
    final List<Pending> written = new ArrayList<>();
    final List<Pending> failed = new ArrayList<>();
    Throwable failure;
    long size = -1;

    void report(List<LongConsumer> listeners) {
      written.forEach(p -> p.done().complete(p.record()));
      if (!failed.isEmpty()) {
        AuditLogException e = new AuditLogException("the audit record could not be written: " + failure.getMessage(), failure);
        failed.forEach(p -> p.done().completeExceptionally(e));
      }
      if (size >= 0) {
        for (LongConsumer listener : listeners) {
          try {
            listener.accept(size);
          } catch (RuntimeException e) {
            log.warn("audit log: a listener failed", e);
          }
        }
      }
    }
  }

  /**
   * Called by a caller once its record is queued. A record alone in the queue, with nobody writing,
   * is written here and now: no hand-off to the writer thread and back, so it costs about its
   * fsync. Anything else wakes the writer, which batches (a caller writing under load would stall
   * its own next call for an fsync).
   */
  private void lead() {
    if (queue.size() == 1 && !writeLock.isHeldByCurrentThread() && writeLock.tryLock()) {
      Turn done;
      try {
        done = writeQueued(false);
      } finally {
        writeLock.unlock();
      }
      done.report(listeners);
      if (queue.isEmpty()) {
        return;
      }
    }
    wakeWriter();
  }

  private void wakeWriter() {
    writerSignalled = true;
    LockSupport.unpark(writer);
  }

  private void writeLoop() {
    while (true) {
      Turn done;
      boolean finished;
      long wait;
      writeLock.lock();
      try {
        done = writeQueued(true);
        maybeCheckpoint();
        finished = closing && queue.isEmpty() && early.isEmpty() && (brokenCause() != null || allNumberedWritten());
        wait = idleWaitNanos();
      } finally {
        writeLock.unlock();
      }
      done.report(listeners);
      if (finished) {
        return;
      }
      // A record queued after this look unparks it (or already has: the permit is kept).
      if (queue.isEmpty() && !writerSignalled && !closing) {
        LockSupport.parkNanos(this, wait);
      }
      writerSignalled = false;
      if (Thread.interrupted()) {
        log.warn("audit log: the writer was interrupted; it goes on (close the log to stop it)");
      }
    }
  }

  /**
   * Under writeLock: moves the queue into sequence order and writes the records that are next, one
   * write and one fsync per run. Only the writer ({@code mayRoll}) seals a full segment; a caller
   * leaves the records that do not fit to it.
   */
  private Turn writeQueued(boolean mayRoll) {
    Turn turn = new Turn();
    List<Pending> drained = new ArrayList<>();
    queue.drainTo(drained, settings.maxBatchRecords());
    drained.forEach(p -> early.put(p.sequence(), p));
    if (brokenCause() != null) {
      failAll(brokenCause(), List.of(), turn); // numbered before the failure, arrived after it
      return turn;
    }
    List<Pending> batch = new ArrayList<>();
    Pending next;
    while (batch.size() < settings.maxBatchRecords() && (next = early.remove(nextToWrite)) != null) {
      batch.add(next);
      nextToWrite++;
    }
    try {
      writeBatch(batch, mayRoll, turn);
    } catch (IOException | NoteException | RuntimeException e) {
      List<Pending> unwritten = new ArrayList<>(batch);
      unwritten.removeAll(turn.written);
      failAll(e, unwritten, turn);
    }
    return turn;
  }

  /** Fails {@code batch}, every record waiting and every record queued; the log stops. */
  private void failAll(Throwable cause, List<Pending> batch, Turn turn) {
    markBroken(cause);
    turn.failure = cause;
    turn.failed.addAll(batch);
    turn.failed.addAll(early.values());
    early.clear();
    queue.drainTo(turn.failed);
  }

  /** Fails whatever reached the queue after the writer ended: no caller waits for ever. */
  private void failLeftovers() {
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left);
    Throwable cause = brokenCause();
    AuditLogException failure = new AuditLogException("the audit log is not writing"
        + (cause == null ? " (it is closed)" : ": " + cause.getMessage()), cause);
    left.forEach(p -> p.done().completeExceptionally(failure));
  }

  private boolean allNumberedWritten() {
    synchronized (sequencer) {
      return nextToWrite >= nextSequence;
    }
  }

  /**
   * How long the writer may wait for the next record: until the next checkpoint is due when records
   * await one (at least a millisecond), else 100 ms (it also notices a close that often).
   */
  private long idleWaitNanos() {
    long size;
    synchronized (this) {
      size = tree.size();
    }
    long idle = 100_000_000L;
    if (size <= checkpointedSize) {
      return idle;
    }
    long due = settings.checkpointInterval().toNanos() - (System.nanoTime() - lastCheckpointNanos);
    return Math.max(1_000_000L, Math.min(due, idle));
  }

  private void writeBatch(List<Pending> batch, boolean mayRoll, Turn turn) throws IOException, NoteException {
    // Written in runs that fit the live segment; a full segment is sealed between two runs.
    int from = 0;
    while (from < batch.size()) {
      if (activeBytes >= settings.segmentBytes() && activeBytes > Segments.HEADER_BYTES) {
        if (!mayRoll) {
          for (Pending p : batch.subList(from, batch.size())) {
            early.put(p.sequence(), p);
          }
          nextToWrite = batch.get(from).sequence();
          wakeWriter(); // it seals the full segment and writes these
          return;
        }
        sealAndRoll();
      }
      int to = from;
      long bytes = 0;
      do {
        bytes += Segments.FRAME_HEADER_BYTES + batch.get(to).payload().length;
        to++;
      } while (to < batch.size() && activeBytes + bytes + Segments.FRAME_HEADER_BYTES + batch.get(to).payload().length
          <= settings.segmentBytes());
      turn.size = writeRun(batch.subList(from, to), (int) bytes);
      turn.written.addAll(batch.subList(from, to));
      from = to;
    }
  }

  /** Writes whole frames with one write and one fsync, then adds them to the tree and the index. */
  private long writeRun(List<Pending> run, int bytes) throws IOException {
    ByteBuffer out = ByteBuffer.allocate(bytes);
    for (Pending p : run) {
      Segments.putFrame(out, p.payload());
    }
    long start = activeBytes;
    active.write(out.array(), 0, bytes);
    active.getFD().sync();
    activeBytes += bytes;
    long size;
    synchronized (this) {
      SegmentIndex index = segments.get(segments.size() - 1);
      long offset = start;
      for (Pending p : run) {
        tree.appendLeafHash(p.leafHash());
        index.add(offset);
        offset += Segments.FRAME_HEADER_BYTES + p.payload().length;
      }
      size = tree.size();
    }
    return size;
  }

  private void maybeCheckpoint() {
    if (brokenCause() != null) {
      return;
    }
    long size;
    synchronized (this) {
      size = tree.size();
    }
    if (size > checkpointedSize && System.nanoTime() - lastCheckpointNanos >= settings.checkpointInterval().toNanos()) {
      writeCheckpoint(null);
    }
  }

  /**
   * Has the tree as it is now signed and stored as the latest checkpoint, and beside {@code sealed}
   * when given, by the checkpointer; a failure there stops the log like a failed write.
   */
  private void writeCheckpoint(Segments.Segment sealed) {
    long size;
    byte[] root;
    synchronized (this) {
      size = tree.size();
      root = tree.root(size);
    }
    checkpointedSize = size;
    lastCheckpointNanos = System.nanoTime();
    checkpointer.execute(() -> {
      try {
        storeCheckpoint(size, root, sealed);
      } catch (IOException | NoteException | RuntimeException e) {
        markBroken(e);
        return;
      }
      if (sealed != null && settings.sink() != null) {
        shipper.execute(() -> ship(sealed));
      }
    });
  }

  /** Signs a checkpoint of {@code size} records with {@code root}; stores it as the latest, and beside {@code sealed}. */
  private void storeCheckpoint(long size, byte[] root, Segments.Segment sealed) throws IOException, NoteException {
    String note = signer.sign(new Checkpoint(origin, size, root, List.of()).text());
    if (sealed != null) {
      writeAtomically(sealed.checkpointFile(), note);
    }
    writeAtomically(dir.resolve(Segments.LATEST_CHECKPOINT), note);
    synchronized (this) {
      latestCheckpoint = note;
    }
  }

  private void sealAndRoll() throws IOException {
    active.getFD().sync();
    Segments.Segment sealed = segments.get(segments.size() - 1).segment;
    writeCheckpoint(sealed);
    active.close();
    startSegment();
  }

  /** Ships the sealed segments a stop left unshipped (sealed just before it, or a sink that was down). */
  private void shipLeftovers() throws IOException {
    if (settings.sink() == null) {
      return;
    }
    java.util.Set<Long> shipped = new java.util.HashSet<>();
    settings.sink().shipped().forEach(seg -> shipped.add(seg.firstSequence()));
    for (Segments.Segment local : Segments.list(dir)) {
      if (Files.exists(local.checkpointFile()) && !shipped.contains(local.firstSequence())) {
        shipper.execute(() -> ship(local));
      }
    }
  }

  /** Copies a sealed segment to the sink, off the writer's path; a failure is logged and retried at the next seal. */
  private void ship(Segments.Segment sealed) {
    try {
      settings.sink().ship(sealed);
    } catch (IOException | RuntimeException e) {
      log.error("audit log: shipping {} failed; it stays here and is shipped again with the next one",
          sealed.file().getFileName(), e);
      unshipped.add(sealed);
      return;
    }
    Segments.Segment retry;
    while ((retry = unshipped.poll()) != null) {
      try {
        settings.sink().ship(retry);
      } catch (IOException | RuntimeException e) {
        unshipped.add(retry);
        return;
      }
    }
  }

  private void startSegment() throws IOException {
    long first;
    synchronized (this) {
      first = tree.size();
    }
    Path file = dir.resolve(Segments.fileName(first));
    Files.createFile(file); // never over an existing segment
    RandomAccessFile segment = new RandomAccessFile(file.toFile(), "rw");
    ByteBuffer header = Segments.header(first);
    byte[] bytes = new byte[header.remaining()];
    header.get(bytes);
    segment.write(bytes);
    segment.getFD().sync();
    syncDirectory();
    synchronized (this) {
      segments.add(new SegmentIndex(new Segments.Segment(file, first)));
    }
    active = segment;
    activeBytes = Segments.HEADER_BYTES;
  }

  private static void writeAtomically(Path target, String text) throws IOException {
    DurableFiles.replace(target, text.getBytes(StandardCharsets.UTF_8), null);
  }

  private void syncDirectory() throws IOException {
    DurableFiles.syncDirectory(dir);
  }

  /** Stops the log: every append from now on fails. The first cause is kept and logged. */
  private void markBroken(Throwable cause) {
    synchronized (this) {
      if (broken == null) {
        broken = cause;
        log.error("audit log: writing failed; every action needing a record is refused from now on", cause);
      }
    }
  }

  /** Writes what is queued, signs a last checkpoint, and closes the files. */
  @Override
  public void close() {
    // No interrupt: the writer is woken, writes what is left and ends.
    synchronized (sequencer) {
      closing = true;
    }
    wakeWriter();
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!writer.isAlive()) {
      failLeftovers();
    }
    writeLock.lock();
    try {
      if (brokenCause() == null && size() > checkpointedSize) {
        writeCheckpoint(null);
      }
    } finally {
      writeLock.unlock();
    }
    checkpointer.shutdown();
    try {
      checkpointer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (brokenCause() != null && !writer.isAlive()) {
      log.error("audit log: closed after a failure; the last checkpoint may not cover every record", brokenCause());
    }
    writeLock.lock();
    try {
      if (active != null) {
        active.close();
      }
    } catch (IOException e) {
      log.warn("audit log: closing the live segment failed", e);
    } finally {
      writeLock.unlock();
    }
    shipper.shutdown();
    try {
      shipper.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
