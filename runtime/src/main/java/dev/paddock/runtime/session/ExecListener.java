package dev.paddock.runtime.session;

import java.time.Instant;

/**
 * Receives one exec's events from {@link ExecFollower}, in order, on one thread: {@link #started},
 * any number of {@link #output} calls (stdout and stderr interleaved as they come; each stream's
 * chunks in offset order), then {@link #finished}. {@link #output} may block to apply back-pressure.
 */
public interface ExecListener {

  /** Which output stream. */
  enum Stream { STDOUT, STDERR }

  /** The exec has an id and has been handed to the session's supervisor. */
  void started(String execId, Instant startTime);

  /**
   * {@code data} is the next piece of {@code stream}, starting at byte {@code offset} of it.
   *
   * @return false when the reader has gone away: nothing more is sent
   */
  boolean output(Stream stream, byte[] data, long offset);

  /**
   * The tool reported {@code event} over its IPC channel; comes after every byte it wrote before.
   *
   * @return false when the reader has gone away
   */
  boolean tool(ToolEvent event);

  /** The exec ended and all of its output and events were delivered. */
  void finished(ExecRecord.Outcome outcome);
}
