package dev.paddock.runtime.ipc;

/**
 * Bounds of one exec's IPC channel (paddock/ipc/v1/ipc.proto).
 *
 * @param maxFrameBytes       largest frame either side may send, bytes. Default 4194304 (4 MiB).
 * @param maxQueuedReplyBytes replies waiting to be sent above which the host stops reading the
 *                            tool's requests (it is not reading its replies), bytes. Default 1 MiB.
 * @param requestsPerSecond   sustained request rate per exec; requests over it are answered
 *                            RATE_LIMITED. Default 20000.
 * @param burst               requests an exec may send at once above the rate. Default 20000.
 */
public record IpcLimits(int maxFrameBytes, int maxQueuedReplyBytes, int requestsPerSecond, int burst) {
  /** The defaults above. */
  public static final IpcLimits DEFAULTS = new IpcLimits(4 << 20, 1 << 20, 20_000, 20_000);

  public IpcLimits {
    if (maxFrameBytes < 4096 || maxQueuedReplyBytes < 1 || requestsPerSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("IPC limits must be positive, frames at least 4096 bytes");
    }
  }
}
