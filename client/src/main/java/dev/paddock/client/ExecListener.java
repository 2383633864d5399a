package dev.paddock.client;

import dev.paddock.ipc.v1.EgressDenied;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ToolArtifact;
import dev.paddock.ipc.v1.ToolProgress;

/**
 * What a running command sends, as it happens, in order, on the calling thread of {@link
 * Session#exec(Command, ExecListener)}. Every method defaults to doing nothing.
 */
public interface ExecListener {
  /** The process started, with this exec id. */
  default void started(String execId) {}

  /** A chunk of its stdout. */
  default void stdout(byte[] data) {}

  /** A chunk of its stderr. */
  default void stderr(byte[] data) {}

  /** A progress message from the in-sandbox SDK (with {@link Command#ipc}). */
  default void progress(ToolProgress progress) {}

  /** An artifact the command published (with {@link Command#ipc}); fetch it with {@link Session#artifact}. */
  default void artifact(ToolArtifact artifact) {}

  /** A connection the egress policy refused. */
  default void egressDenied(EgressDenied denied) {}

  /** How it ended: the last event. */
  default void result(ExecResult result) {}
}
