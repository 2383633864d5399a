package dev.paddock.sandbox;

/**
 * Starts commands in jails. There is no unsandboxed path: when a jail cannot be set up,
 * {@link #start} throws and nothing runs.
 */
public interface SandboxLauncher {

  /**
   * Checks that the jail works on this host by running a trivial command in it.
   *
   * @throws SandboxSetupException with a reason an operator can act on
   */
  void checkAvailable() throws SandboxSetupException;

  /** Starts {@code request} in a fresh jail. */
  SandboxProcess start(SandboxRequest request) throws SandboxSetupException;

  /** Removes the cgroup subtree of a finished session or tenant; missing is fine. */
  void removeCgroups(String relativePath);
}
