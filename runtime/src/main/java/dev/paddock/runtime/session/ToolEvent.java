package dev.paddock.runtime.session;

import dev.paddock.runtime.ipc.ArtifactMeta;
import java.time.Instant;
import java.util.OptionalDouble;

/**
 * Something in an exec's event stream besides its output: what a tool reported over its IPC
 * channel, or a connection of its session that the egress proxy refused.
 */
public sealed interface ToolEvent {
  /** Position among the exec's tool events, from 0. */
  long sequence();

  /** When the host received it. */
  Instant time();

  /** A progress report: a message and, when the tool knows it, a fraction 0..1. */
  record Progress(String message, OptionalDouble fraction, long sequence, Instant time) implements ToolEvent {}

  /** An artifact the host stored. */
  record Artifact(ArtifactMeta artifact, long sequence, Instant time) implements ToolEvent {}

  /**
   * A connection out of the session's jail that the egress proxy refused.
   *
   * @param host     what the tool asked for (name or address literal)
   * @param port     the port, 0 when the request did not get that far
   * @param address  the resolved address the refusal was about, "" when none
   * @param reason   the EgressDenyReason name without its prefix
   * @param detail   a sentence for people
   * @param protocol "http", "connect" or "socks5"
   */
  record EgressDenied(String host, int port, String address, String reason, String detail, String protocol,
      long sequence, Instant time) implements ToolEvent {}
}
