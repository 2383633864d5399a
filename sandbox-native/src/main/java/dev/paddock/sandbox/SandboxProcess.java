package dev.paddock.sandbox;

import java.io.InputStream;

/** A command running in a jail. Read both output streams to the end, then {@link #await()}. */
public interface SandboxProcess {

  /** The command's standard output. */
  InputStream stdout();

  /** The command's standard error. */
  InputStream stderr();

  /** Waits for the end and tells how it ended; cleans up the jail's cgroup and scratch files. */
  SandboxResult await() throws InterruptedException;

  /** Kills the whole process tree now; {@link #await()} then reports KILLED with {@code reason}. */
  void cancel(String reason);
}
