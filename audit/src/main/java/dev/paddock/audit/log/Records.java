package dev.paddock.audit.log;

import com.google.protobuf.CodedOutputStream;
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
}
