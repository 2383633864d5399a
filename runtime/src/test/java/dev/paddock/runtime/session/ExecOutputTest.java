package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExecOutputTest {
  @Test
  void aReaderThatKeepsUpSeesEveryByteAcrossRingWrapsInOrder() throws Exception {
    ExecOutput out = new ExecOutput(new Object(), 1000, Long.MAX_VALUE);
    byte[] all = new byte[10_000];
    new Random(7).nextBytes(all);
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    long at = 0;
    for (int off = 0; off < all.length; off += 333) {
      int n = Math.min(333, all.length - off);
      byte[] piece = java.util.Arrays.copyOfRange(all, off, off + n);
      out.write(piece, n);
      ExecOutput.Chunk c;
      while ((c = out.read(at, 400, 0, false)).data().length > 0) {
        assertThat(c.offset()).isEqualTo(at);
        seen.write(c.data());
        at += c.data().length;
      }
    }
    assertThat(seen.toByteArray()).isEqualTo(all);
  }

  @Test
  void aLateReaderResumesAtTheOldestKeptByteAndTheCapDropsTheRest() throws Exception {
    ExecOutput out = new ExecOutput(new Object(), 100, 250);
    byte[] data = new byte[300];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    out.write(data, data.length);
    out.end();
    ExecOutput.Chunk c = out.read(0, 1000, 0, false);
    assertThat(c.offset()).isEqualTo(150); // 250 kept past the cap, the last 100 of them retained
    assertThat(c.data()).hasSize(100);
    assertThat(c.data()[0]).isEqualTo((byte) 150);
    assertThat(out.total()).isEqualTo(300);
    assertThat(out.truncated()).isTrue();
    assertThat(out.read(250, 10, 0, false)).isNull();
  }

  @Test
  void theRingGrowsFromSmallToItsCapacityWithoutLosingOrder() throws Exception {
    ExecOutput out = new ExecOutput(new Object(), 100_000, Long.MAX_VALUE);
    byte[] all = new byte[300_000];
    new Random(9).nextBytes(all);
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    long at = 0;
    for (int off = 0; off < all.length; off += 7_001) {
      int n = Math.min(7_001, all.length - off);
      out.write(java.util.Arrays.copyOfRange(all, off, off + n), n);
      if ((off / 7_001) % 3 == 2) { // read only now and then: the reader lags, within capacity
        ExecOutput.Chunk c;
        while ((c = out.read(at, 65_536, 0, false)).data().length > 0) {
          assertThat(c.offset()).isEqualTo(at);
          seen.write(c.data());
          at += c.data().length;
        }
      }
    }
    out.end();
    ExecOutput.Chunk c;
    while ((c = out.read(at, 65_536, 0, false)) != null) {
      seen.write(c.data());
      at += c.data().length;
    }
    assertThat(seen.toByteArray()).isEqualTo(all);
  }
}
