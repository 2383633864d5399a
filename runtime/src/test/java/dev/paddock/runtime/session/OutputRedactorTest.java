package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputRedactorTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Feeds {@code text} in pieces of the given sizes, then finishes. */
  private static String through(OutputRedactor r, String text, int... sizes) {
    byte[] all = b(text);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int off = 0;
    int s = 0;
    while (off < all.length) {
      int n = Math.min(sizes[s++ % sizes.length], all.length - off);
      byte[] piece = java.util.Arrays.copyOfRange(all, off, off + n);
      out.writeBytes(r.feed(piece, n));
      off += n;
    }
    out.writeBytes(r.finish());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aValueIsReplacedWhereverTheReadsCutIt() {
    String text = "token=s3cr3t-VALUE; again s3cr3t-VALUE; s3cr3t-VAL is not it; end s3cr3t-VALUE";
    String want = "token=[REDACTED:T]; again [REDACTED:T]; s3cr3t-VAL is not it; end [REDACTED:T]";
    for (int size = 1; size <= text.length(); size++) {
      assertThat(through(new OutputRedactor(Map.of("T", b("s3cr3t-VALUE"))), text, size)).as("reads of %d", size).isEqualTo(want);
    }
    assertThat(through(new OutputRedactor(Map.of("T", b("s3cr3t-VALUE"))), text, 3, 7, 1, 11)).isEqualTo(want);
  }

  @Test
  void theLongerOfTwoOverlappingValuesWinsAndOthersPassUntouched() {
    OutputRedactor r = new OutputRedactor(Map.of("SHORT", b("abc"), "LONG", b("abcdef")));
    assertThat(through(r, "xabcdefx abcx ab", 2)).isEqualTo("x[REDACTED:LONG]x [REDACTED:SHORT]x ab");
    Random random = new Random(7);
    byte[] noise = new byte[5000];
    random.nextBytes(noise);
    OutputRedactor none = new OutputRedactor(Map.of("T", b("\u0000\u0001never")));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(none.feed(noise, 2500));
    out.writeBytes(none.feed(java.util.Arrays.copyOfRange(noise, 2500, 5000), 2500));
    out.writeBytes(none.finish());
    assertThat(out.toByteArray()).isEqualTo(noise);
  }
}
