package dev.paddock.runtime.ipc;

import dev.paddock.ipc.v1.IpcViolationKind;

/**
 * What happened on one exec's IPC channel, as the exec's result reports it.
 *
 * @param requests           requests read
 * @param rejected           requests answered with an error
 * @param violation          the first protocol violation, or null
 * @param violationDetail    one sentence about it ("" when none)
 * @param peakBufferedBytes  most bytes held for the channel at once (frame being read + replies queued)
 */
public record IpcSummary(long requests, long rejected, IpcViolationKind violation, String violationDetail,
    long peakBufferedBytes) {

  /** True when the violation ended the exec (the stream could no longer be trusted). */
  public boolean fatal() {
    return violation != null && isFatal(violation);
  }

  static boolean isFatal(IpcViolationKind kind) {
    return kind == IpcViolationKind.IPC_VIOLATION_MALFORMED_FRAME
        || kind == IpcViolationKind.IPC_VIOLATION_FRAME_TOO_LARGE
        || kind == IpcViolationKind.IPC_VIOLATION_TRUNCATED_FRAME;
  }
}
