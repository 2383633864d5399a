package dev.paddock.runtime.ipc;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A session's key-value scratch state for its tools: small, in host memory only, shared by the
 * session's execs, gone with the session. Bounded per session by key count and total bytes.
 */
public final class SessionScratch {
  /** Longest key, bytes of UTF-8. */
  public static final int MAX_KEY_BYTES = 256;
  /** Largest value, bytes. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;
  /** Most keys per session. */
  public static final int MAX_KEYS = 1024;
  /** Most bytes of keys and values together per session. */
  public static final long MAX_TOTAL_BYTES = 4L << 20;

  private final TreeMap<String, byte[]> entries = new TreeMap<>();
  private long totalBytes;
  private boolean closed;

  public synchronized Optional<byte[]> get(String key) {
    checkKey(key);
    return Optional.ofNullable(entries.get(key)).map(byte[]::clone);
  }

  public synchronized void put(String key, byte[] value) {
    int keyBytes = checkKey(key);
    if (closed) {
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, "the session is closing");
    }
    if (value.length > MAX_VALUE_BYTES) {
      throw ToolRefusal.tooLarge("value", MAX_VALUE_BYTES);
    }
    byte[] old = entries.get(key);
    if (old == null && entries.size() >= MAX_KEYS) {
      throw ToolRefusal.exhausted("scratchKeys", "the session's scratch state already holds " + MAX_KEYS + " keys");
    }
    long after = totalBytes + value.length - (old == null ? -keyBytes : old.length);
    if (after > MAX_TOTAL_BYTES) {
      throw ToolRefusal.exhausted("scratchBytes", "the session's scratch state would exceed " + MAX_TOTAL_BYTES + " bytes");
    }
    entries.put(key, value.clone());
    totalBytes = after;
  }

  public synchronized boolean delete(String key) {
    int keyBytes = checkKey(key);
    byte[] old = entries.remove(key);
    if (old != null) {
      totalBytes -= keyBytes + old.length;
    }
    return old != null;
  }

  /** Drops everything and takes no more (the session closed). */
  public synchronized void clear() {
    entries.clear();
    totalBytes = 0;
    closed = true;
  }

  public synchronized List<String> keys(String prefix) {
    List<String> out = new ArrayList<>();
    for (String k : entries.tailMap(prefix, true).keySet()) {
      if (!k.startsWith(prefix)) {
        break;
      }
      out.add(k);
    }
    return out;
  }

  private static int checkKey(String key) {
    int n = key.getBytes(StandardCharsets.UTF_8).length;
    if (n == 0) {
      throw ToolRefusal.invalid("key", "is required");
    }
    if (n > MAX_KEY_BYTES) {
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE, "key is over its limit of " + MAX_KEY_BYTES
          + " bytes", Map.of("field", "key", "limitBytes", Integer.toString(MAX_KEY_BYTES)));
    }
    return n;
  }
}
