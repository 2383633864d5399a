package dev.paddock.runtime.session;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Replaces secret values in one output stream as it passes through, also where a value is split
 * across two reads: bytes that could be the start of a value are held back until the next read
 * (or the end) says whether they are. At most one value's length less one byte is ever held.
 * Not thread-safe: one stream's pump uses it.
 */
final class OutputRedactor {
  private final List<byte[]> values = new ArrayList<>();
  private final List<byte[]> replacements = new ArrayList<>();
  private byte[] held = new byte[0];

  /** {@code secrets}: name to value; each value becomes {@code [REDACTED:name]}. Empty values are ignored. */
  OutputRedactor(Map<String, byte[]> secrets) {
    List<Map.Entry<String, byte[]>> byLength = new ArrayList<>(secrets.entrySet());
    // Longest first: of two values where one contains the other, the longer one is replaced whole.
    byLength.sort(Comparator.comparingInt((Map.Entry<String, byte[]> e) -> e.getValue().length).reversed());
    for (Map.Entry<String, byte[]> e : byLength) {
      if (e.getValue().length > 0) {
        values.add(e.getValue().clone());
        replacements.add(("[REDACTED:" + e.getKey() + "]").getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  /** The next {@code len} bytes of the stream; returns what may be passed on now. */
  byte[] feed(byte[] buf, int len) {
    byte[] data = new byte[held.length + len];
    System.arraycopy(held, 0, data, 0, held.length);
    System.arraycopy(buf, 0, data, held.length, len);
    return scan(data, false);
  }

  /**
   * {@code text} with every whole value replaced. For an instance that redacts whole texts only
   * (never fed a stream): a final scan leaves nothing held.
   */
  String redact(String text) {
    return new String(scan(text.getBytes(StandardCharsets.UTF_8), true), StandardCharsets.UTF_8);
  }

  /** The stream ended: whatever was held back, redacted where it is a whole value. */
  byte[] finish() {
    return scan(held, true);
  }

  private byte[] scan(byte[] data, boolean last) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(data.length);
    int i = 0;
    outer:
    while (i < data.length) {
      if (!last && startsAValue(data, i)) {
        break; // a value may start here, cut off by the read (a longer one than any that fits): wait
      }
      for (int k = 0; k < values.size(); k++) {
        byte[] v = values.get(k);
        if (i + v.length <= data.length && Arrays.equals(data, i, i + v.length, v, 0, v.length)) {
          out.writeBytes(replacements.get(k));
          i += v.length;
          continue outer;
        }
      }
      out.write(data[i]);
      i++;
    }
    held = Arrays.copyOfRange(data, i, data.length);
    return out.toByteArray();
  }

  /** Whether {@code data[i..]}, shorter than some value, is that value's beginning. */
  private boolean startsAValue(byte[] data, int i) {
    int rest = data.length - i;
    for (byte[] v : values) {
      if (rest < v.length && Arrays.equals(data, i, data.length, v, 0, rest)) {
        return true;
      }
    }
    return false;
  }
}
