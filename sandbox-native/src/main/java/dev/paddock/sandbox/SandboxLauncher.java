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

  /**
   * Creates a session workspace named {@code name} (1-128 characters of [A-Za-z0-9_-]), private to
   * the sandbox user.
   */
  java.nio.file.Path createWorkspace(String name) throws java.io.IOException;

  /** Deletes a workspace made by {@link #createWorkspace} and everything in it. */
  void deleteWorkspace(java.nio.file.Path workspace);

  /** Removes the cgroup subtree of a finished session or tenant; missing is fine. */
  void removeCgroups(String relativePath);
}
