package dev.paddock.runtime.session;

import dev.paddock.sandbox.SandboxResult;
import java.time.Instant;

/**
 * Receives one exec's events, in order: {@link #started}, any number of {@link #output} calls
 * (stdout and stderr may interleave; each stream's chunks arrive in order), then {@link #finished}.
 * {@link #output} may block to apply back-pressure; it is called from two threads, one per stream.
 */
public interface ExecListener {

  /** Which output stream. */
  enum Stream { STDOUT, STDERR }

  /** The exec has an id; its jail is starting. {@code cancel} kills it (e.g. when the caller goes away). */
  void started(String execId, Instant startTime, Runnable cancel);

  /** {@code data} is the next piece of {@code stream}, starting at byte {@code offset} of it. */
  void output(Stream stream, byte[] data, long offset);

  /** The exec ended. */
  void finished(SandboxResult result, ExecCounters counters);

  /**
   * Output accounting.
   *
   * @param stdoutBytes all bytes the program wrote to stdout (delivered or not)
   * @param stderrBytes likewise for stderr
   * @param truncated   true when some output past the per-stream limit was dropped
   */
  record ExecCounters(long stdoutBytes, long stderrBytes, boolean truncated) {}
}
