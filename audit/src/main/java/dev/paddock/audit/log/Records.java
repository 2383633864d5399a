package dev.paddock.audit.log;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The one way a record becomes bytes: deterministic protobuf serialization (map keys sorted). */
public final class Records {
  private Records() {}

  /** The record's leaf data: the bytes stored in its frame and hashed into the tree. */
  public static byte[] serialize(AuditRecord record) {
    byte[] out = new byte[record.getSerializedSize()];
    CodedOutputStream stream = CodedOutputStream.newInstance(out);
    stream.useDeterministicSerialization();
    try {
      record.writeTo(stream);
      stream.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("serializing into an array of the exact size cannot fail", e);
    }
    return out;
  }

  /**
   * The bytes {@link #serialize} gives for {@code unnumbered} with {@code sequence} and {@code time}
   * set, without building that record first: protobuf writes fields in number order and sequence
   * (1) and time (2) come first, so they are a prefix to the rest. Saves one build and one sizing
   * of every record on the append path.
   *
   * @param unnumbered a record with no sequence and no time
   */
  public static byte[] serializeNumbered(AuditRecord unnumbered, long sequence, Timestamp time) {
    if (unnumbered.getSequence() != 0 || unnumbered.hasTime()) {
      throw new IllegalArgumentException("the record is numbered already");
    }
    // proto3: a zero sequence is not written at all; a set message field always is.
    int prefix = (sequence == 0 ? 0 : CodedOutputStream.computeUInt64Size(AuditRecord.SEQUENCE_FIELD_NUMBER, sequence))
        + CodedOutputStream.computeMessageSize(AuditRecord.TIME_FIELD_NUMBER, time);
    byte[] out = new byte[prefix + unnumbered.getSerializedSize()];
    CodedOutputStream stream = CodedOutputStream.newInstance(out);
    stream.useDeterministicSerialization();
    try {
      if (sequence != 0) {
        stream.writeUInt64(AuditRecord.SEQUENCE_FIELD_NUMBER, sequence);
      }
      stream.writeMessage(AuditRecord.TIME_FIELD_NUMBER, time);
      unnumbered.writeTo(stream);
      stream.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("serializing into an array of the exact size cannot fail", e);
    }
    return out;
  }

  /** An upper bound of the numbered record's size: a sequence takes at most 11 bytes, a time 24. */
  public static int numberedSizeBound(AuditRecord unnumbered) {
    return unnumbered.getSerializedSize() + 11 + 24;
  }
}
