package dev.paddock.runtime.ipc;

/**
 * Bounds of one exec's IPC channel (paddock/ipc/v1/ipc.proto).
 *
 * @param maxFrameBytes       largest frame either side may send, bytes. Default 4194304 (4 MiB).
 * @param maxQueuedReplyBytes replies waiting to be sent above which the host stops reading the
 *                            tool's requests (it is not reading its replies), bytes. Default 1 MiB.
 * @param requestsPerSecond   sustained rate of frames per exec; frames over it are answered
 *                            RATE_LIMITED, and past a debt of {@code burst} the channel is not read
 *                            until it is repaid. Default 20000.
 * @param burst               frames an exec may send at once above the rate. Default 20000.
 * @param tenantRequestsPerSecond the same for all of a tenant's execs together (its burst is the
 *                            same number): what IPC may cost the host per tenant. Default 50000.
 */
public record IpcLimits(int maxFrameBytes, int maxQueuedReplyBytes, int requestsPerSecond, int burst,
    int tenantRequestsPerSecond) {
  /** The defaults above. */
  public static final IpcLimits DEFAULTS = new IpcLimits(4 << 20, 1 << 20, 20_000, 20_000, 50_000);

  public IpcLimits {
    if (maxFrameBytes < 4096 || maxQueuedReplyBytes < 1 || requestsPerSecond < 1 || burst < 1
        || tenantRequestsPerSecond < 1) {
      throw new IllegalArgumentException("IPC limits must be positive, frames at least 4096 bytes");
    }
  }
}
