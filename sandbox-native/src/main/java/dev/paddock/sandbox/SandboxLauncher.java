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
   * Hints that execs with this parent, workspace and policy will follow, so the launcher may set up
   * a jail ahead of time. Best effort and asynchronous; {@link #removeCgroups} of the parent (or
   * above) discards whatever was prepared.
   */
  void prepare(String cgroupParent, java.nio.file.Path workspace, dev.paddock.policy.SandboxPolicy policy);

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
