package dev.paddock.sandbox.jail;

import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.Signal;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What the host needs of one process spawned in a {@link Jail}: the host's ends of its three
 * pipes, how it ended, and ways to signal or kill it. {@link JailExec} is the real one.
 *
 * <p>The contract every implementation keeps:
 * <ul>
 *   <li><b>Pipes.</b> {@link #stdin()}, {@link #stdout()} and {@link #stderr()} are real, blocking
 *       pipe ends that belong to the caller from {@link Jail#spawn} on: the caller reads and writes
 *       them, and closes all three when done (the process never closes the host's ends). Output
 *       reaches end of file once no process of the exec holds the pipe; a background child may
 *       keep it open after {@link #result()} has completed.
 *   <li><b>Futures always complete, never exceptionally, each once.</b> {@link #started()}
 *       completes before or together with {@link #result()}: true once the program runs, false
 *       when it never ran (then the result says why: SETUP_ERROR, or how the jail went down).
 *       {@link #result()} completes when the main process has ended, when the host's wall-time
 *       timer has killed it (TIMEOUT), or at the latest when the jail goes down.
 *   <li><b>Threads.</b> The futures complete on the jail's threads or the thread that closes the
 *       jail; callers must not block in what they chain onto them. Every method may be called from
 *       any thread.
 * </ul>
 */
public interface JailProcess {

  /** The host's number of this process within its jail (how {@link JailCensus} counts it). */
  long number();

  /** The write end of the process's stdin pipe (blocking); the caller writes it and closes it. */
  Fd stdin();

  /** The read end of the process's stdout pipe (blocking); the caller closes it when done. */
  Fd stdout();

  /** The read end of the process's stderr pipe (blocking); the caller closes it when done. */
  Fd stderr();

  /**
   * The host's end of the process's typed IPC socket (AF_UNIX SOCK_STREAM, blocking; the process
   * has the other end as its fd 3), when {@link ExecCommand#ipc()} asked for one. Belongs to the
   * caller like the pipes.
   */
  Optional<Fd> ipc();

  /** Completes true once the program runs, false when it never ran (see {@link #result()}). */
  CompletableFuture<Boolean> started();

  /** Completes once, normally, with how the process ended. */
  CompletableFuture<SandboxResult> result();

  /**
   * Sends {@code signal}: with {@code tree}, to its process group and process session, else to
   * the main process. A caller's signal is not a host kill: the process ends as SIGNALED if the
   * signal kills it. Does nothing once the process has ended or the jail is down.
   */
  void signal(Signal signal, boolean tree);

  /**
   * Kills the process's tree on the host's behalf; it ends as KILLED with {@code reason}. The
   * first host kill wins (a later cancel, or the wall-time timer, changes nothing); does nothing
   * once the process has ended. Returns at once: the result follows.
   */
  void cancel(String reason);
}
