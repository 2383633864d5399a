package dev.paddock.audit.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What one segment file holds: its header, every whole frame in order up to the first bad one, and
 * what is wrong there, if anything. It trusts nothing in the file (lengths are bounded, checksums
 * checked). What a bad frame means is the caller's to decide: in the live segment it is the
 * unacknowledged end of a write a crash cut (every earlier batch was fsynced before the next was
 * written), anywhere else damage.
 *
 * @param firstSequence the first record's sequence, from the header
 * @param frames every whole frame before the first bad one
 * @param endOffset where those frames end
 * @param fileLength the file's length
 * @param problem what is wrong at {@code endOffset}, or null when the frames run to the end
 */
record SegmentScan(long firstSequence, List<Frame> frames, long endOffset, long fileLength, String problem) {
  /** One whole frame: where it starts, and its payload (checksum verified). */
  record Frame(long offset, byte[] payload) {}

  boolean clean() {
    return problem == null;
  }

  static SegmentScan read(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length < Segments.HEADER_BYTES
        || !Arrays.equals(Arrays.copyOf(bytes, Segments.MAGIC.length), Segments.MAGIC)) {
      throw new IOException(file.getFileName() + " is not an audit segment (bad header)");
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    in.position(Segments.MAGIC.length);
    int version = in.getInt();
    if (version != Segments.VERSION) {
      throw new IOException(file.getFileName() + " has segment format version " + version + ", this host reads "
          + Segments.VERSION);
    }
    long first = in.getLong();
    List<Frame> frames = new ArrayList<>();
    while (in.hasRemaining()) {
      int offset = in.position();
      String problem = null;
      if (in.remaining() < Segments.FRAME_HEADER_BYTES) {
        problem = "a frame header is cut short";
      } else {
        int length = in.getInt();
        int crc = in.getInt();
        if (length < 0 || length > Segments.MAX_RECORD_BYTES) {
          problem = "a frame claims " + Integer.toUnsignedString(length) + " bytes";
        } else if (in.remaining() < length) {
          problem = "a frame of " + length + " bytes is cut short";
        } else if (Segments.crc(bytes, in.position(), length) != crc) {
          problem = "a frame's checksum does not match its contents";
        } else {
          frames.add(new Frame(offset, Arrays.copyOfRange(bytes, in.position(), in.position() + length)));
          in.position(in.position() + length);
        }
      }
      if (problem != null) {
        return new SegmentScan(first, frames, offset, bytes.length, problem);
      }
    }
    return new SegmentScan(first, frames, bytes.length, bytes.length, null);
  }
}
