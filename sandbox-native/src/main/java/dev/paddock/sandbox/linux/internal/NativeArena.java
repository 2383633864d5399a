package dev.paddock.sandbox.linux.internal;

import dev.paddock.sandbox.linux.NativeException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Pointer;

/**
 * Native memory for one call: zeroed blocks from calloc(3), all freed by {@link #close()}.
 *
 * <p>Why not jnr's garbage-collected {@code Memory}: a structure that only holds the address of
 * another block (argv, an iovec) does not keep that block's Java object reachable, so the collector
 * could free it during the call; and a 1 MiB frame buffer per send should go back at once, not when
 * the collector gets round to it. Not thread-safe: one arena belongs to one call on one thread.
 */
final class NativeArena implements AutoCloseable {
  private static final int ENOMEM = 12;

  private final LibC libc;
  private final List<Pointer> blocks = new ArrayList<>();

  NativeArena(LibC libc) {
    this.libc = libc;
  }

  /** A zeroed block of {@code bytes} (at least 1) bytes, aligned for any C type. */
  Pointer allocate(long bytes) throws NativeException {
    Pointer block = libc.calloc(1, Math.max(1, bytes));
    if (block == null || block.address() == 0) {
      throw new NativeException("calloc", ENOMEM);
    }
    blocks.add(block);
    return block;
  }

  /** {@code s} as a NUL-terminated UTF-8 string. Rejects strings containing NUL. */
  Pointer cString(String s) throws NativeException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (b == 0) {
        throw new IllegalArgumentException("a C string cannot contain NUL: " + s);
      }
    }
    Pointer p = allocate(bytes.length + 1L);
    p.put(0, bytes, 0, bytes.length);
    return p;
  }

  /** A NULL-terminated {@code char *[]} of {@code strings} (each a {@link #cString}). */
  Pointer cStringArray(List<String> strings) throws NativeException {
    Pointer array = allocate((strings.size() + 1L) * Long.BYTES);
    for (int i = 0; i < strings.size(); i++) {
      array.putAddress((long) i * Long.BYTES, cString(strings.get(i)).address());
    }
    return array; // calloc left the terminating NULL
  }

  @Override
  public void close() {
    for (Pointer block : blocks) {
      libc.free(block);
    }
    blocks.clear();
  }
}
