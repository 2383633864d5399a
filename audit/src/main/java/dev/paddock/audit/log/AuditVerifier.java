package dev.paddock.audit.log;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.paddock.audit.merkle.MerkleTree;
import dev.paddock.audit.merkle.Rfc6962;
import dev.paddock.audit.note.Checkpoint;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Checks an audit log offline, with nothing but its files and the log's public key: every frame's
 * checksum, every record's sequence (nothing removed, inserted or reordered), the Merkle tree
 * rebuilt from the records against every signed checkpoint (each sealed segment's and the latest),
 * and every checkpoint's signature. Stops at the first bad record and names it.
 *
 * <p>Segments may be spread over several directories (the live one and those sealed segments were
 * shipped to); they are read as one log.
 */
public final class AuditVerifier {
  private AuditVerifier() {}

  /**
   * What {@link #verify} found.
   *
   * @param records how many records were read and hashed
   * @param checkpoints how many signed checkpoints verified and matched the tree
   * @param problem the first thing wrong, naming its record; null when the log verifies
   * @param notes things worth knowing that are not wrong (an unacknowledged torn end)
   * @param latestCheckpoint the latest checkpoint that verified, or null
   */
  public record Report(long records, int checkpoints, String problem, List<String> notes, Checkpoint latestCheckpoint) {
    public boolean ok() {
      return problem == null;
    }
  }

  private static final class Walk {
    final MerkleTree tree = new MerkleTree();
    final List<String> notes = new ArrayList<>();
    int checkpoints;
    Checkpoint latest;
    /** The size of the largest checkpoint whose root matched: records below it are proven intact. */
    long provenSize;
    /** Set when the log's end was torn: the record that could not be read, and what was wrong. */
    long tornAt = -1;
    String torn;
  }

  public static Report verify(List<Path> dirs, NoteVerifier key) throws IOException {
    Walk walk = new Walk();
    String problem = walkSegments(dirs, key, walk);
    if (problem == null) {
      problem = checkLatest(dirs.get(0), key, walk);
    }
    if (problem == null && walk.tree.size() > 0 && walk.checkpoints == 0) {
      problem = "no signed checkpoint covers the log's " + walk.tree.size() + " records";
    }
    return new Report(walk.tree.size(), walk.checkpoints, problem, List.copyOf(walk.notes), walk.latest);
  }

  private static String walkSegments(List<Path> dirs, NoteVerifier key, Walk walk) throws IOException {
    TreeMap<Long, Segments.Segment> segments = new TreeMap<>();
    for (Path dir : dirs) {
      for (Segments.Segment segment : Segments.list(dir)) {
        segments.putIfAbsent(segment.firstSequence(), segment); // the first directory named wins
      }
    }
    int i = 0;
    for (Segments.Segment segment : segments.values()) {
      boolean last = ++i == segments.size();
      long expected = walk.tree.size();
      String where = segment.file().getFileName().toString();
      if (segment.firstSequence() != expected) {
        return "record " + expected + ": missing (no segment holds records " + expected + " to "
            + (segment.firstSequence() - 1) + ")";
      }
      SegmentScan scan;
      try {
        scan = SegmentScan.read(segment.file());
      } catch (IOException e) {
        return "record " + expected + ": " + e.getMessage();
      }
      if (scan.firstSequence() != segment.firstSequence()) {
        return "record " + expected + ": " + where + " says it starts at record " + scan.firstSequence();
      }
      for (SegmentScan.Frame frame : scan.frames()) {
        long sequence = walk.tree.size();
        AuditRecord record;
        try {
          record = AuditRecord.parseFrom(frame.payload());
        } catch (InvalidProtocolBufferException e) {
          return "record " + sequence + " (" + where + ", byte " + frame.offset() + "): not a record";
        }
        if (record.getSequence() != sequence) {
          return "record " + sequence + " (" + where + ", byte " + frame.offset() + "): holds record "
              + record.getSequence() + " instead: records were removed, inserted or reordered";
        }
        walk.tree.appendLeafHash(Rfc6962.leafHash(frame.payload()));
      }
      if (!scan.clean()) {
        String what = "record " + walk.tree.size() + " (" + where + ", byte " + scan.endOffset() + "): " + scan.problem();
        if (!last) {
          return what;
        }
        walk.tornAt = walk.tree.size();
        walk.torn = what;
        walk.notes.add(what + "; the log's last write is incomplete (" + (scan.fileLength() - scan.endOffset())
            + " bytes): unacknowledged unless a signed checkpoint covers it");
      }
      if (Files.exists(segment.checkpointFile())) {
        String problem = checkCheckpoint(segment.checkpointFile(), key, walk, walk.tree.size());
        if (problem != null) {
          return problem;
        }
      }
    }
    return null;
  }

  private static String checkLatest(Path dir, NoteVerifier key, Walk walk) throws IOException {
    Path file = dir.resolve(Segments.LATEST_CHECKPOINT);
    if (!Files.exists(file)) {
      return null;
    }
    return checkCheckpoint(file, key, walk, -1);
  }

  /** Checks one stored checkpoint; {@code expectedSize} >= 0 when it must cover exactly that many. */
  private static String checkCheckpoint(Path file, NoteVerifier key, Walk walk, long expectedSize) throws IOException {
    String name = file.getFileName().toString();
    Checkpoint checkpoint;
    try {
      checkpoint = Checkpoint.parse(key.open(Files.readString(file, StandardCharsets.UTF_8)));
    } catch (NoteException e) {
      return "checkpoint " + name + " does not verify with the key " + key.name() + ": " + e.getMessage();
    }
    if (walk.latest != null && !walk.latest.origin().equals(checkpoint.origin())) {
      return "checkpoint " + name + " is for log \"" + checkpoint.origin() + "\", the others for \""
          + walk.latest.origin() + "\"";
    }
    long size = walk.tree.size();
    if (checkpoint.size() > size) {
      if (walk.torn != null) {
        return walk.torn + " (checkpoint " + name + " covers " + checkpoint.size() + " records, so this was written"
            + " and acknowledged: it was damaged or cut since)";
      }
      return "record " + size + ": missing; the log ends after " + size + " records but checkpoint " + name
          + " covers " + checkpoint.size() + " (records " + size + " to " + (checkpoint.size() - 1)
          + " were cut or removed)";
    }
    if (expectedSize >= 0 && checkpoint.size() != expectedSize) {
      return "checkpoint " + name + " covers " + checkpoint.size() + " records, but its segment ends after " + expectedSize;
    }
    if (!MessageDigest.isEqual(walk.tree.root(checkpoint.size()), checkpoint.rootHash())) {
      return "records " + walk.provenSize + " to " + (checkpoint.size() - 1) + ": one of them was changed (their tree"
          + " does not match checkpoint " + name + ")";
    }
    walk.provenSize = Math.max(walk.provenSize, checkpoint.size());
    walk.checkpoints++;
    if (walk.latest == null || checkpoint.size() >= walk.latest.size()) {
      walk.latest = checkpoint;
    }
    return null;
  }
}
