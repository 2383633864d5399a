package dev.paddock.runtime.session;

import dev.paddock.runtime.ipc.ArtifactMeta;
import java.time.Instant;
import java.util.OptionalDouble;

/** Something a tool reported over its IPC channel, in the exec's event stream. */
public sealed interface ToolEvent {
  /** Position among the exec's tool events, from 0. */
  long sequence();

  /** When the host received it. */
  Instant time();

  /** A progress report: a message and, when the tool knows it, a fraction 0..1. */
  record Progress(String message, OptionalDouble fraction, long sequence, Instant time) implements ToolEvent {}

  /** An artifact the host stored. */
  record Artifact(ArtifactMeta artifact, long sequence, Instant time) implements ToolEvent {}
}
