package dev.paddock.sandbox.jail;

import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.fs.WorkspaceRoot;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * What the host needs of one session's live jail: start processes in it, count them, reach its
 * workspace, learn when it fails by itself, and close it. {@link SessionJail} is the real one
 * (nsjail with paddock-init as PID 1); tests use a hand-written fake behind the same contract.
 *
 * <p>The contract every implementation keeps:
 * <ul>
 *   <li><b>Threads.</b> Every method may be called from any thread, concurrently. Futures of the
 *       jail and of its {@link JailProcess}es complete on the jail's own threads, or on the thread
 *       that calls {@link #close}; whatever is chained onto them must not block.
 *   <li><b>One way down.</b> A jail is alive from the moment a launcher hands it out until it is
 *       closed ({@link #close}) or fails by itself; it never comes back. Once it is down,
 *       {@link #alive()} is false and {@link #spawn} throws.
 *   <li><b>Every process ends.</b> The {@link JailProcess#started()} and
 *       {@link JailProcess#result()} futures of every process it spawned always complete (never
 *       exceptionally), at the latest when the jail goes down: as KILLED when the host closed it,
 *       as INTERNAL_ERROR when it failed.
 *   <li><b>Ordering on failure.</b> When the jail fails by itself, every running process's result
 *       has completed before the {@link #onFailure} listener is called.
 * </ul>
 */
public interface Jail {

  /**
   * Starts {@code command} and returns at once; the process's {@link JailProcess#started()} and
   * {@link JailProcess#result()} complete later. Throws only when the jail is not running (closed
   * or failed) or the host cannot set the process up (its pipes); nothing started then.
   *
   * @throws SandboxSetupException with a message safe for a tenant
   */
  JailProcess spawn(ExecCommand command) throws SandboxSetupException;

  /**
   * Counts the jail's live processes by exec number. Completes within about 2 s, or fails (at
   * once when the jail is not running, with a timeout when the jail does not answer).
   */
  CompletableFuture<JailCensus> census();

  /**
   * The workspace root, opened by the host before the jail is handed out; valid until
   * {@link #close}. Work on it only through {@code WorkspaceFiles}.
   */
  WorkspaceRoot workspace();

  /** True while processes can start: handed out, and neither closed nor failed. */
  boolean alive();

  /**
   * Sets the listener called once, on a jail thread, when the jail fails by itself (its
   * supervisor broke the protocol or died): the session should close. Never called for
   * {@link #close}. Set it once, right after the jail is handed out; a failure before that is
   * seen through {@link #alive()}.
   */
  void onFailure(Consumer<String> listener);

  /**
   * Closes the jail: from the moment this returns no process can start, every running process's
   * result has completed as KILLED with {@code reason} (or TIMEOUT, or the reason of an earlier
   * {@link JailProcess#cancel}), and its processes, workspace and resources are removed in the
   * background. Idempotent; {@code reason} goes to the tenant.
   */
  void close(String reason);

  /**
   * The jail's egress listeners, once (see {@link SessionJail#takeEgressListeners}); the caller
   * owns them from then on. Empty for a jail without a way out.
   */
  default java.util.Optional<EgressListeners> takeEgressListeners() {
    return java.util.Optional.empty();
  }

  /**
   * The host pid of the jail's init, its PID 1, while the jail is alive: {@code /proc/PID/net}
   * shows the jail's network namespace from outside. Empty for a jail without one the host can
   * name.
   */
  default java.util.OptionalLong initPid() {
    return java.util.OptionalLong.empty();
  }
}
