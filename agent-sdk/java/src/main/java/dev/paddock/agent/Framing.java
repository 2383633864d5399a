package dev.paddock.agent;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.paddock.ipc.agent.v1.Envelope;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The wire format of ipc.proto: each frame is a 4-byte big-endian length N, then N bytes of one
 * serialized {@code Envelope}; N is at most the frame limit, in both directions.
 *
 * <p>{@link #encode} is pure and thread-safe; {@link #read} is used by one thread at a time (the
 * reader of the moment, see {@link PendingCalls}).
 */
final class Framing {
  /** Frame limit when {@code PADDOCK_IPC_MAX_FRAME} is not set: 4194304 bytes (4 MiB). */
  static final int DEFAULT_MAX_FRAME = 4 * 1024 * 1024;

  private static final int HEADER_BYTES = 4;
  /** Big enough that a small reply (a pong is 8 bytes) arrives in one read(2). */
  private static final int READ_BUFFER_BYTES = 64 * 1024;

  private final int maxFrame;
  private final DataInputStream in;

  /**
   * @param in the channel's input, read only through this object from now on
   * @param maxFrame the frame limit, bytes (body only, without the 4 length bytes)
   */
  Framing(InputStream in, int maxFrame) {
    this.maxFrame = maxFrame;
    this.in = new DataInputStream(new BufferedInputStream(in, READ_BUFFER_BYTES));
  }

  /** The frame limit, bytes. */
  int maxFrame() {
    return maxFrame;
  }

  /**
   * One frame, ready for a single write: 4 length bytes and the serialized envelope.
   *
   * @throws PayloadTooLargeException if the envelope is over the frame limit (nothing is sent)
   */
  byte[] encode(Envelope envelope) {
    int size = envelope.getSerializedSize();
    if (size > maxFrame) {
      throw new PayloadTooLargeException(
          "the request is " + size + " bytes, over the IPC frame limit of " + maxFrame + " bytes",
          Map.of(
              "field", "frame",
              "limitBytes", Integer.toString(maxFrame),
              "sizeBytes", Integer.toString(size)));
    }
    byte[] frame = new byte[HEADER_BYTES + size];
    frame[0] = (byte) (size >>> 24);
    frame[1] = (byte) (size >>> 16);
    frame[2] = (byte) (size >>> 8);
    frame[3] = (byte) size;
    CodedOutputStream out = CodedOutputStream.newInstance(frame, HEADER_BYTES, size);
    try {
      envelope.writeTo(out);
    } catch (IOException e) {
      throw new IllegalStateException("serializing into an array of the right size failed", e);
    }
    out.checkNoSpaceLeft();
    return frame;
  }

  /**
   * Reads the next frame, blocking until it is complete.
   *
   * @return the envelope, or {@code null} at end of stream between frames (the host closed)
   * @throws EOFException at end of stream inside a frame
   * @throws ProtocolException for a length over the frame limit or a body that is not an Envelope
   * @throws IOException if reading fails
   */
  Envelope read() throws IOException {
    int first = in.read();
    if (first < 0) {
      return null;
    }
    long length = ((long) first << 24) | (in.readUnsignedByte() << 16) | in.readUnsignedShort();
    if (length > maxFrame) {
      throw new ProtocolException(
          "the host sent a frame of " + length + " bytes, over the limit of " + maxFrame, null);
    }
    byte[] body = new byte[(int) length];
    in.readFully(body);
    try {
      return Envelope.parseFrom(body);
    } catch (InvalidProtocolBufferException e) {
      throw new ProtocolException("the host sent a frame that is not an Envelope", e);
    }
  }
}
