package dev.paddock.audit.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each kind of tampering (a flipped byte, a deleted record, two swapped records, a cut log, a
 * checkpoint by another key) is reported by the verifier, at the right record.
 */
class AuditVerifierTest {
  @TempDir Path dir;
  private NoteVerifier key;

  @BeforeEach
  void writeALog() throws Exception {
    // 2 KiB segments: records 0.. spread over several sealed segments and a live one.
    try (AuditLog log = AuditLogTest.open(dir, 2048)) {
      AuditLogTest.appendAll(log, 300);
    }
    key = NoteVerifier.parse(AuditLogTest.SIGNER.verifierKey());
  }

  private AuditVerifier.Report verify() throws Exception {
    return AuditVerifier.verify(List.of(dir), key);
  }

  /** The segment holding record {@code sequence}, and that record's frame. */
  private record Located(Path file, byte[] bytes, SegmentScan scan, int index) {
    SegmentScan.Frame frame() {
      return scan.frames().get(index);
    }

    int frameEnd(int i) {
      SegmentScan.Frame f = scan.frames().get(i);
      return (int) f.offset() + Segments.FRAME_HEADER_BYTES + f.payload().length;
    }
  }

  private Located locate(long sequence) throws Exception {
    Segments.Segment holder = null;
    for (Segments.Segment s : Segments.list(dir)) {
      if (s.firstSequence() <= sequence) {
        holder = s;
      }
    }
    SegmentScan scan = SegmentScan.read(holder.file());
    return new Located(holder.file(), Files.readAllBytes(holder.file()), scan, (int) (sequence - holder.firstSequence()));
  }

  @Test
  void anUntouchedLogVerifies() throws Exception {
    AuditVerifier.Report report = verify();
    assertThat(report.problem()).isNull();
    assertThat(report.records()).isEqualTo(300);
    assertThat(report.checkpoints()).isGreaterThan(3);
    assertThat(report.latestCheckpoint().size()).isEqualTo(300);
  }

  @Test
  void aFlippedByteIsReportedAtItsRecord() throws Exception {
    for (long victim : new long[] {5, 150, 299}) {
      Located at = locate(victim);
      byte[] bytes = at.bytes().clone();
      bytes[(int) at.frame().offset() + Segments.FRAME_HEADER_BYTES + 3] ^= 0x10;
      Files.write(at.file(), bytes);
      assertThat(verify().problem()).as("byte flipped in record %d", victim).startsWith("record " + victim + " (")
          .contains("checksum");
      Files.write(at.file(), at.bytes());
    }
  }

  @Test
  void aChangedRecordWithAFixedChecksumIsCaughtByTheSignedTree() throws Exception {
    Located at = locate(42);
    byte[] bytes = at.bytes().clone();
    int payload = (int) at.frame().offset() + Segments.FRAME_HEADER_BYTES;
    int length = at.frame().payload().length;
    bytes[payload + length - 1] ^= 0x01; // in the last attribute's value
    java.nio.ByteBuffer.wrap(bytes).putInt((int) at.frame().offset() + 4, Segments.crc(bytes, payload, length));
    Files.write(at.file(), bytes);
    String problem = verify().problem();
    assertThat(problem).contains("was changed");
    // Named as a range that holds 42: the segment's own checkpoint pins it down.
    long from = Long.parseLong(problem.split(" ")[1]);
    long to = Long.parseLong(problem.split(" ")[3].replace(":", ""));
    assertThat(from).isLessThanOrEqualTo(42);
    assertThat(to).isGreaterThanOrEqualTo(42).isLessThan(100);
  }

  @Test
  void aDeletedRecordIsReportedWhereItWas() throws Exception {
    Located at = locate(120);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(at.bytes(), 0, (int) at.frame().offset());
    int end = at.frameEnd(at.index());
    out.write(at.bytes(), end, at.bytes().length - end);
    Files.write(at.file(), out.toByteArray());
    assertThat(verify().problem()).startsWith("record 120 (").contains("holds record 121");
  }

  @Test
  void swappedRecordsAreReportedAtTheFirst() throws Exception {
    Located at = locate(200);
    if (at.index() + 1 >= at.scan().frames().size()) {
      at = locate(199);
    }
    long first = at.frame().offset();
    int middle = at.frameEnd(at.index());
    int end = at.frameEnd(at.index() + 1);
    byte[] bytes = at.bytes().clone();
    byte[] swapped = new byte[end - (int) first];
    System.arraycopy(at.bytes(), middle, swapped, 0, end - middle);
    System.arraycopy(at.bytes(), (int) first, swapped, end - middle, middle - (int) first);
    System.arraycopy(swapped, 0, bytes, (int) first, swapped.length);
    Files.write(at.file(), bytes);
    long victim = Segments.list(dir).stream().filter(s -> s.file().equals(locateFile(200))).findFirst()
        .map(s -> s.firstSequence()).orElseThrow() + at.index();
    assertThat(verify().problem()).startsWith("record " + victim + " (").contains("reordered");
  }

  private Path locateFile(long sequence) {
    try {
      return locate(sequence).file();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aCutLogIsReportedAtTheFirstMissingRecord() throws Exception {
    // Cut at a frame boundary: the records are simply gone, but the checkpoint counted them.
    Located at = locate(290);
    Files.write(at.file(), Arrays.copyOf(at.bytes(), (int) at.frame().offset()));
    assertThat(verify().problem()).startsWith("record 290: missing").contains("covers 300");
    // Cut inside a frame: reported at the torn record, which the checkpoint proves was acknowledged.
    Files.write(at.file(), Arrays.copyOf(at.bytes(), (int) at.frame().offset() + 11));
    assertThat(verify().problem()).startsWith("record 290 (").contains("acknowledged");
    // A whole segment removed from the middle.
    Files.write(at.file(), at.bytes());
    Segments.Segment second = Segments.list(dir).get(1);
    Files.delete(second.file());
    assertThat(verify().problem()).startsWith("record " + second.firstSequence() + ": missing");
  }

  @Test
  void aCheckpointSignedByAnotherKeyIsRejected() throws Exception {
    NoteSigner other = NoteSigner.generate(AuditLogTest.ORIGIN, new SecureRandom());
    Path latest = dir.resolve(Segments.LATEST_CHECKPOINT);
    String text = NoteVerifier.parse(AuditLogTest.SIGNER.verifierKey()).open(Files.readString(latest));
    Files.writeString(latest, other.sign(text));
    assertThat(verify().problem()).startsWith("checkpoint checkpoint does not verify").contains("no signature");
    // And the log's own key does not accept the other key's verifier either.
    assertThat(AuditVerifier.verify(List.of(dir), NoteVerifier.parse(other.verifierKey())).problem())
        .contains("does not verify");
  }

  @Test
  void anUnfinishedLastWriteIsANoteNotAProblem() throws Exception {
    Path live = Segments.list(dir).get(Segments.list(dir).size() - 1).file();
    Files.write(live, new byte[] {0, 0, 0, 50, 1, 2}, java.nio.file.StandardOpenOption.APPEND);
    AuditVerifier.Report report = verify();
    assertThat(report.problem()).isNull();
    assertThat(report.notes()).singleElement().asString().startsWith("record 300 (").contains("incomplete");
  }
}
