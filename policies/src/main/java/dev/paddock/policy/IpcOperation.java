package dev.paddock.policy;

/**
 * What code inside a sandbox may ask the host for over its typed IPC channel (paddock.ipc.v1). A
 * request for an operation its session's policy does not grant is refused with PERMISSION_DENIED
 * naming the operation; a ping is always answered.
 */
public enum IpcOperation {
  /** Progress events for the planner. */
  PROGRESS,
  /** Named artifacts for the planner (bytes, or a copy of a workspace file). */
  ARTIFACTS,
  /** Reading and listing workspace files. */
  FILES_READ,
  /** Writing workspace files. */
  FILES_WRITE,
  /** The session's key-value scratch state. */
  SCRATCH,
  /** Host-side tools by name (call_tool). */
  TOOLS,
  /** Browsers of the session (browser): open, navigate, screenshot, read, click, type, evaluate. */
  BROWSER
}
