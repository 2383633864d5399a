package dev.paddock.sandbox.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads kernel settings under {@code /proc/sys}.
 *
 * <p>Why not {@code Files.readString}: a numeric sysctl reports a size of 0, so the JDK reads its
 * first byte alone and asks again at offset 1, where the kernel's integer handlers answer end of
 * file: {@code 1048576} would read as {@code 1}. One read into a buffer gets the whole value.
 */
public final class Sysctl {
  private static final int MAX_BYTES = 64 * 1024;

  private Sysctl() {}

  /** The setting's text, trimmed; empty when it cannot be read (no such file, no permission). */
  public static String read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[MAX_BYTES];
      int n = in.read(buf);
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** A numeric setting (its first field), or empty when it cannot be read or is not a number. */
  public static OptionalLong readLong(Path file) {
    String text = read(file);
    String first = text.split("\\s+", 2)[0];
    try {
      return first.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(first));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
