package dev.paddock.runtime.ipc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.Error;
import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.ipc.v1.IpcViolationKind;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The host's end of one exec's typed IPC channel: frames in (4-byte big-endian length + Envelope),
 * frames out, never blocking. Everything read is untrusted tenant input.
 *
 * <p>Memory: a 64 KiB staging buffer for small frames, one buffer of exactly the announced size for
 * a frame that does not fit (at most {@link IpcLimits#maxFrameBytes()}), and replies waiting to be
 * sent. While more than {@link IpcLimits#maxQueuedReplyBytes()} of replies wait, {@link #wantsRead()}
 * is false: the caller stops reading requests, so a tool that never reads its replies blocks in its
 * own writes instead of growing the host.
 *
 * <p>Requests this host does not know and requests over the rate are answered here (UNKNOWN_REQUEST,
 * RATE_LIMITED); a frame over the limit, bytes that are not an Envelope, or end of file inside a
 * frame close the channel ({@link #fatal()}). Used by one thread at a time (the exec's pump).
 */
public final class IpcChannel implements AutoCloseable {
  private static final int STAGING_BYTES = 64 * 1024;

  private final Fd fd;
  private final LinuxSyscalls linux;
  private final IpcLimits limits;
  private final RateLimiter execRate;
  private final RateLimiter tenantRate;
  private final byte[] in = new byte[STAGING_BYTES];
  private int start;
  private int end;
  private byte[] big;        // a frame larger than the staging buffer, being read
  private int bigHave;
  private final ArrayDeque<byte[]> outbound = new ArrayDeque<>();
  private int headWritten;
  private long queuedBytes;
  private boolean open = true;
  private boolean inputEnded; // the tool shut down its sending side: replies still go out
  private long requests;
  private long rejected;
  private IpcViolationKind violation;
  private String violationDetail = "";
  private long peakBuffered;

  /**
   * Takes {@code fd} (the host's end of the socketpair) and makes it non-blocking. Every frame
   * takes a token from the exec's own bucket and from its tenant's, shared by its other execs.
   */
  public IpcChannel(Fd fd, LinuxSyscalls linux, IpcLimits limits, RateLimiter execRate, RateLimiter tenantRate)
      throws NativeException {
    this.fd = fd;
    this.linux = linux;
    this.limits = limits;
    this.execRate = execRate;
    this.tenantRate = tenantRate;
    linux.setNonBlocking(fd, true);
  }

  /** The descriptor to poll. */
  public Fd fd() {
    return fd;
  }

  /** False once the tool hung up, broke the protocol, or the host closed the channel. */
  public boolean open() {
    return open;
  }

  /**
   * True when requests should be read: open, not at end of file, the tool reading its replies,
   * and the rate not in deep debt (see {@link #pauseNanos()}).
   */
  public boolean wantsRead() {
    return open && !inputEnded && queuedBytes < limits.maxQueuedReplyBytes() && pauseNanos() == 0;
  }

  /** While a flood's debt is repaid, how long reading waits, nanoseconds; 0 = not paused. */
  public long pauseNanos() {
    return Math.max(execRate.pauseNanos(), tenantRate.pauseNanos());
  }

  /**
   * True when a whole request is already read and waiting here (the socket may have nothing more,
   * so a poll would not report it): serve it without waiting.
   */
  public boolean hasBufferedRequest() {
    if (!wantsRead()) {
      return false;
    }
    if (big != null) {
      return bigHave == big.length;
    }
    if (end - start < 4) {
      return false;
    }
    long length = ((in[start] & 0xffL) << 24) | ((in[start + 1] & 0xff) << 16) | ((in[start + 2] & 0xff) << 8)
        | (in[start + 3] & 0xff);
    return length > limits.maxFrameBytes() || end - start - 4 >= length;
  }

  /** True when replies wait to be sent. */
  public boolean wantsWrite() {
    return open && !outbound.isEmpty();
  }

  /** True when a violation closed the channel and the exec must end. */
  public boolean fatal() {
    return violation != null && IpcSummary.isFatal(violation);
  }

  /** The summary for the exec's result. */
  public IpcSummary summary() {
    return new IpcSummary(requests, rejected, violation, violationDetail, peakBuffered);
  }

  /**
   * Reads at most {@code maxFrames} frames and returns the requests among them the broker should
   * serve. Every frame counts, and takes a token of the rate: unknown and rate-limited ones are
   * answered here and not returned, so a flood of them ends this call as soon as a flood of good
   * requests would. Returns an empty list when nothing complete is there yet, or the channel
   * closed (see {@link #open()}).
   */
  public List<Envelope> read(int maxFrames) {
    List<Envelope> served = new ArrayList<>();
    int frames = 0;
    while (wantsRead() && frames < maxFrames) {
      Envelope next = nextFrame();
      if (next == null) {
        if (!open || !fill()) {
          break;
        }
        continue;
      }
      frames++;
      requests++;
      // Both buckets pay for every frame, served or not.
      boolean overExec = execRate.take() == RateLimiter.Verdict.REFUSE;
      boolean overTenant = tenantRate.take() == RateLimiter.Verdict.REFUSE;
      if (overExec || overTenant) {
        int limit = overExec ? limits.requestsPerSecond() : limits.tenantRequestsPerSecond();
        notAllowed(next, IpcErrorReason.IPC_ERROR_RATE_LIMITED, IpcViolationKind.IPC_VIOLATION_RATE_LIMITED,
            "more than " + limit + " requests per second " + (overExec ? "from this exec" : "from the tenant's execs"),
            Map.of("limitPerSecond", Integer.toString(limit), "scope", overExec ? "exec" : "tenant"));
      } else if (!isRequest(next)) {
        notAllowed(next, IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST, IpcViolationKind.IPC_VIOLATION_UNKNOWN_REQUEST,
            next.getBodyCase() == Envelope.BodyCase.BODY_NOT_SET
                ? "a frame carried no request this host knows"
                : "a frame carried a reply (" + next.getBodyCase().name().toLowerCase() + "), not a request",
            Map.of());
      } else {
        served.add(next);
      }
    }
    return served;
  }

  /** Queues {@code reply} and sends what the socket takes now. */
  public void reply(Envelope reply) {
    if (!open) {
      return;
    }
    if (reply.hasError()) {
      rejected++;
    }
    int size = reply.getSerializedSize();
    if (size > limits.maxFrameBytes()) {
      // The broker sizes replies below the limit; this guards the contract, not a normal path.
      reply = error(reply.getId(), IpcErrorReason.IPC_ERROR_INTERNAL, "the reply was over the frame limit", Map.of());
      size = reply.getSerializedSize();
    }
    byte[] frame = new byte[4 + size];
    frame[0] = (byte) (size >>> 24);
    frame[1] = (byte) (size >>> 16);
    frame[2] = (byte) (size >>> 8);
    frame[3] = (byte) size;
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(frame, 4, size);
      reply.writeTo(out);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    outbound.add(frame);
    queuedBytes += frame.length;
    notePeak();
    flush();
  }

  /** Sends queued replies until the socket is full. A tool that hung up closes the channel. */
  public void flush() {
    while (open && !outbound.isEmpty()) {
      byte[] head = outbound.peek();
      int n;
      try {
        n = linux.write(fd, head, headWritten, head.length - headWritten);
      } catch (NativeException e) {
        close(); // EPIPE and friends: the tool is gone; its replies have no reader
        return;
      }
      if (n < 0) {
        return; // full: poll for POLLOUT
      }
      headWritten += n;
      if (headWritten == head.length) {
        outbound.poll();
        queuedBytes -= head.length;
        headWritten = 0;
      }
    }
    if (inputEnded && outbound.isEmpty()) {
      close();
    }
  }

  /** An error reply for request {@code id}. */
  public static Envelope error(long id, IpcErrorReason reason, String message, Map<String, String> metadata) {
    return Envelope.newBuilder().setId(id)
        .setError(Error.newBuilder().setReason(reason).setMessage(message).putAllMetadata(metadata))
        .build();
  }

  /** Closes the socket (the tool reads EOF); idempotent. */
  @Override
  public void close() {
    open = false;
    outbound.clear();
    queuedBytes = 0;
    big = null;
    linux.close(fd);
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The next whole frame already read, parsed; null when none is complete (or the channel broke). */
  private Envelope nextFrame() {
    if (big != null) {
      return bigHave == big.length ? parse(takeBig()) : null;
    }
    if (end - start < 4) {
      return null;
    }
    long length = ((in[start] & 0xffL) << 24) | ((in[start + 1] & 0xff) << 16) | ((in[start + 2] & 0xff) << 8)
        | (in[start + 3] & 0xff);
    if (length > limits.maxFrameBytes()) {
      fail(IpcViolationKind.IPC_VIOLATION_FRAME_TOO_LARGE,
          "a frame of " + length + " bytes is over the limit of " + limits.maxFrameBytes());
      return null;
    }
    int len = (int) length;
    if (end - start - 4 >= len) {
      byte[] body = java.util.Arrays.copyOfRange(in, start + 4, start + 4 + len);
      start += 4 + len;
      return parse(body);
    }
    if (4 + len > in.length) {
      // Too large for the staging buffer: read the rest straight into a buffer of its own.
      big = new byte[len];
      bigHave = end - start - 4;
      System.arraycopy(in, start + 4, big, 0, bigHave);
      start = end = 0;
      notePeak();
    }
    return null;
  }

  private byte[] takeBig() {
    byte[] body = big;
    big = null;
    bigHave = 0;
    return body;
  }

  private Envelope parse(byte[] body) {
    try {
      return Envelope.parseFrom(body);
    } catch (InvalidProtocolBufferException e) {
      fail(IpcViolationKind.IPC_VIOLATION_MALFORMED_FRAME, "a frame of " + body.length + " bytes is not an Envelope");
      return null;
    }
  }

  /** One read from the socket; false when nothing more is there now (or it ended). */
  private boolean fill() {
    int n;
    try {
      if (big != null) {
        n = linux.read(fd, big, bigHave, big.length - bigHave);
      } else {
        if (start > 0) {
          System.arraycopy(in, start, in, 0, end - start);
          end -= start;
          start = 0;
        }
        n = linux.read(fd, in, end, in.length - end);
      }
    } catch (NativeException e) {
      close();
      return false;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      int partial = big != null ? bigHave + 4 : end - start;
      if (partial > 0) {
        fail(IpcViolationKind.IPC_VIOLATION_TRUNCATED_FRAME,
            "the channel closed inside a frame (" + partial + " bytes of it had arrived)");
      } else {
        // Between frames: an orderly end (a half-close included). What is queued still goes out.
        inputEnded = true;
        flush();
      }
      return false;
    }
    if (big != null) {
      bigHave += n;
    } else {
      end += n;
    }
    notePeak();
    return true;
  }

  private static boolean isRequest(Envelope e) {
    int field = e.getBodyCase().getNumber();
    return field >= 10 && field < 30;
  }

  private void notAllowed(Envelope request, IpcErrorReason reason, IpcViolationKind kind, String message,
      Map<String, String> metadata) {
    note(kind, message);
    reply(error(request.getId(), reason, message, metadata));
  }

  private void fail(IpcViolationKind kind, String detail) {
    note(kind, detail);
    close();
  }

  /** Records the first violation; a fatal one replaces an earlier non-fatal one (it decides the status). */
  private void note(IpcViolationKind kind, String detail) {
    if (violation == null || (IpcSummary.isFatal(kind) && !IpcSummary.isFatal(violation))) {
      violation = kind;
      violationDetail = detail;
    }
  }

  private void notePeak() {
    long buffered = queuedBytes + (big != null ? big.length : end - start);
    peakBuffered = Math.max(peakBuffered, buffered);
  }
}
