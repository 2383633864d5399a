package dev.paddock.runtime.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.ipc.agent.v1.KvGetReply;
import dev.paddock.ipc.agent.v1.PingRequest;
import dev.paddock.ipc.agent.v1.WriteFileRequest;
import dev.paddock.ipc.v1.IpcViolationKind;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The host end of the IPC channel over a real socketpair, the tool's end driven by hand. */
class IpcChannelTest {
  private final LinuxSyscalls linux = LinuxSyscalls.system();
  private final AtomicLong now = new AtomicLong();
  private Fd tool;
  private IpcChannel channel;

  @BeforeEach
  void open() throws Exception {
    Fd[] pair = linux.streamPair();
    tool = pair[1];
    channel = new IpcChannel(pair[0], linux, new IpcLimits(1 << 20, 64 * 1024, 1000, 3, 1_000_000),
        new RateLimiter(1000, 3, now::get), new RateLimiter(1_000_000, 1_000_000, now::get));
  }

  @AfterEach
  void close() {
    channel.close();
    linux.close(tool);
  }

  @Test
  void aFrameLargerThanTheStagingBufferArrivingInPiecesIsOneRequest() throws Exception {
    Envelope big = Envelope.newBuilder().setId(7).setWriteFile(WriteFileRequest.newBuilder().setPath("a")
        .setData(ByteString.copyFrom(new byte[300_000]))).build();
    byte[] frame = frame(big);
    List<Envelope> got = new ArrayList<>();
    for (int off = 0; off < frame.length; off += 50_000) {
      write(frame, off, Math.min(50_000, frame.length - off));
      got.addAll(channel.read(10));
    }
    assertThat(got).containsExactly(big);
    assertThat(channel.summary().peakBufferedBytes()).isGreaterThanOrEqualTo(300_000);
  }

  @Test
  void aHeaderSplitByteByByteAndFramesBackToBack() throws Exception {
    byte[] a = frame(ping(1));
    byte[] b = frame(ping(2));
    List<Envelope> got = new ArrayList<>();
    for (byte x : a) {
      write(new byte[] {x}, 0, 1);
      got.addAll(channel.read(10));
    }
    write(b, 0, b.length);
    got.addAll(channel.read(10));
    assertThat(got).extracting(Envelope::getId).containsExactly(1L, 2L);
  }

  @Test
  void unknownRequestsAndRepliesAreAnsweredHereAndAreNotFatal() throws Exception {
    byte[] unknown = {0, 0, 0, 5, 0x08, 0x09, (byte) 0xea, 0x01, 0x00}; // id 9, field 29
    write(unknown, 0, unknown.length);
    Envelope pong = Envelope.newBuilder().setId(10).setPong(dev.paddock.ipc.agent.v1.PingReply.getDefaultInstance()).build();
    byte[] f = frame(pong);
    write(f, 0, f.length);
    assertThat(channel.read(10)).isEmpty();
    assertThat(readReply().getError().getReason()).isEqualTo(IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST);
    assertThat(readReply().getId()).isEqualTo(10);
    assertThat(channel.open()).isTrue();
    assertThat(channel.fatal()).isFalse();
    assertThat(channel.summary().violation()).isEqualTo(IpcViolationKind.IPC_VIOLATION_UNKNOWN_REQUEST);
    assertThat(channel.summary().rejected()).isEqualTo(2);
  }

  @Test
  void framesOverTheRateAreRefusedThenAFloodIsNotReadUntilItsDebtIsRepaid() throws Exception {
    for (int i = 1; i <= 5; i++) {
      byte[] f = frame(ping(i));
      write(f, 0, f.length);
    }
    // 3 tokens: three served, two refused (the bucket is 2 in debt).
    assertThat(channel.read(10)).extracting(Envelope::getId).containsExactly(1L, 2L, 3L);
    assertThat(readReply().getError().getReason()).isEqualTo(IpcErrorReason.IPC_ERROR_RATE_LIMITED);
    assertThat(readReply().getError().getMetadataMap()).containsEntry("scope", "exec").containsEntry("limitPerSecond", "1000");
    assertThat(channel.pauseNanos()).isZero();
    // One more refused frame makes the debt 3 = burst: reading stops for the 3 ms the debt takes to repay.
    for (int i = 6; i <= 8; i++) {
      byte[] f = frame(ping(i));
      write(f, 0, f.length);
    }
    assertThat(channel.read(10)).isEmpty();
    assertThat(channel.pauseNanos()).isEqualTo(3_000_000);
    assertThat(channel.wantsRead()).isFalse();
    assertThat(channel.read(10)).isEmpty();
    now.addAndGet(3_000_000);
    assertThat(channel.wantsRead()).isTrue();
    // Repaid to 0: the next frame is refused (-1); 4 ms later (+4 tokens) one is served.
    assertThat(channel.read(1)).isEmpty();
    now.addAndGet(4_000_000);
    assertThat(channel.read(10)).extracting(Envelope::getId).containsExactly(8L);
    assertThat(channel.summary().violation()).isEqualTo(IpcViolationKind.IPC_VIOLATION_RATE_LIMITED);
    assertThat(channel.summary().requests()).isEqualTo(8);
  }

  @Test
  void aToolThatDoesNotReadItsRepliesStopsBeingRead() throws Exception {
    Envelope reply = Envelope.newBuilder().setId(1).setKvValue(KvGetReply.newBuilder().setFound(true)
        .setValue(ByteString.copyFrom(new byte[16 * 1024]))).build();
    int sent = 0;
    while (channel.wantsRead()) {
      channel.reply(reply);
      sent++;
      assertThat(sent).isLessThan(10_000);
    }
    // The socket took what it could; 64 KiB more wait, then no more requests are read.
    assertThat(channel.wantsWrite()).isTrue();
    assertThat(channel.summary().peakBufferedBytes()).isLessThan(64 * 1024 + reply.getSerializedSize() + 4);
    byte[] f = frame(ping(2));
    write(f, 0, f.length);
    assertThat(channel.read(10)).isEmpty();
  }

  @Test
  void aLengthOverTheLimitIsFatalBeforeTheBodyIsRead() throws Exception {
    byte[] header = ByteBuffer.allocate(4).putInt((1 << 20) + 1).array();
    write(header, 0, 4);
    assertThat(channel.read(10)).isEmpty();
    assertThat(channel.fatal()).isTrue();
    assertThat(channel.open()).isFalse();
    assertThat(channel.summary().violation()).isEqualTo(IpcViolationKind.IPC_VIOLATION_FRAME_TOO_LARGE);
  }

  @Test
  void garbageIsFatal() throws Exception {
    byte[] garbage = {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    write(garbage, 0, garbage.length);
    assertThat(channel.read(10)).isEmpty();
    assertThat(channel.summary().violation()).isEqualTo(IpcViolationKind.IPC_VIOLATION_MALFORMED_FRAME);
    assertThat(channel.fatal()).isTrue();
  }

  @Test
  void endOfFileInsideAFrameIsTruncationBetweenFramesIsAClose() throws Exception {
    byte[] half = {0, 0, 0, 9, 1, 2};
    write(half, 0, half.length);
    linux.close(tool);
    assertThat(channel.read(10)).isEmpty();
    assertThat(channel.summary().violation()).isEqualTo(IpcViolationKind.IPC_VIOLATION_TRUNCATED_FRAME);

    close();
    open();
    byte[] f = frame(ping(1));
    write(f, 0, f.length);
    linux.close(tool);
    assertThat(channel.read(10)).extracting(Envelope::getId).containsExactly(1L);
    assertThat(channel.read(10)).isEmpty();
    assertThat(channel.open()).isFalse();
    assertThat(channel.summary().violation()).isNull();
  }

  private static Envelope ping(long id) {
    return Envelope.newBuilder().setId(id).setPing(PingRequest.getDefaultInstance()).build();
  }

  private static byte[] frame(Envelope e) {
    byte[] body = e.toByteArray();
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  private void write(byte[] b, int off, int len) throws Exception {
    int done = 0;
    while (done < len) {
      done += linux.write(tool, b, off + done, len - done);
    }
  }

  private Envelope readReply() throws Exception {
    byte[] header = readExactly(4);
    int n = ByteBuffer.wrap(header).getInt();
    return Envelope.parseFrom(readExactly(n));
  }

  private byte[] readExactly(int n) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[n];
    while (out.size() < n) {
      int r = linux.read(tool, buf, 0, n - out.size());
      if (r <= 0) {
        throw new AssertionError("channel closed");
      }
      out.write(buf, 0, r);
    }
    return out.toByteArray();
  }
}
