package dev.paddock.audit.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The on-disk form of the log. A directory holds segment files named
 * {@code audit-<first sequence, 20 digits>.seg}; each starts with a 20-byte header (the magic
 * {@code PDKAUDIT}, a big-endian u32 format version 1, the u64 sequence of its first record) and
 * then holds frames: a big-endian u32 payload length, the u32 CRC-32C of the payload, and the
 * payload, which is one deterministically serialized {@code paddock.v1.AuditRecord}. Beside a
 * sealed segment, {@code <segment>.checkpoint} holds the signed checkpoint of the tree at its end;
 * {@code checkpoint} holds the latest.
 */
public final class Segments {
  static final byte[] MAGIC = {'P', 'D', 'K', 'A', 'U', 'D', 'I', 'T'};
  static final int VERSION = 1;
  static final int HEADER_BYTES = 20;
  static final int FRAME_HEADER_BYTES = 8;
  /** Largest payload a frame may hold; a record is far smaller. */
  public static final int MAX_RECORD_BYTES = 1 << 20;
  /** The latest checkpoint's file name. */
  public static final String LATEST_CHECKPOINT = "checkpoint";

  private static final Pattern NAME = Pattern.compile("audit-(\\d{20})\\.seg");

  private Segments() {}

  /** A segment file of a directory, by the sequence of its first record. */
  public record Segment(Path file, long firstSequence) {
    /** Where the signed checkpoint at this segment's end is kept once it is sealed. */
    public Path checkpointFile() {
      return file.resolveSibling(file.getFileName() + ".checkpoint");
    }
  }

  static String fileName(long firstSequence) {
    return String.format("audit-%020d.seg", firstSequence);
  }

  /** The segments of {@code dir}, in sequence order; none when it does not exist. */
  public static List<Segment> list(Path dir) throws IOException {
    List<Segment> segments = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return segments;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (m.matches()) {
          segments.add(new Segment(file, Long.parseLong(m.group(1))));
        }
      }
    }
    segments.sort((a, b) -> Long.compare(a.firstSequence(), b.firstSequence()));
    return segments;
  }

  /**
   * Every whole record of the log in {@code dir}, in order, read straight from its files (a live
   * log may be read: a write in progress at the end is left out). For tools and tests; the
   * verifier checks far more.
   */
  public static List<dev.paddock.ipc.v1.AuditRecord> readAll(Path dir) throws IOException {
    List<dev.paddock.ipc.v1.AuditRecord> records = new ArrayList<>();
    for (Segment segment : list(dir)) {
      for (SegmentScan.Frame frame : SegmentScan.read(segment.file()).frames()) {
        records.add(dev.paddock.ipc.v1.AuditRecord.parseFrom(frame.payload()));
      }
    }
    return records;
  }

  static ByteBuffer header(long firstSequence) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.put(MAGIC).putInt(VERSION).putLong(firstSequence).flip();
    return header;
  }

  /** Appends one frame holding {@code payload} to {@code out}. */
  static void putFrame(ByteBuffer out, byte[] payload) {
    out.putInt(payload.length).putInt(crc(payload, 0, payload.length)).put(payload);
  }

  static int crc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
