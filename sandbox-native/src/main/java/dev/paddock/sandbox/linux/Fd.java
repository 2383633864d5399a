package dev.paddock.sandbox.linux;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open file descriptor owned by the host. Closed once, through {@link LinuxSyscalls#close} or
 * {@link #close()}; after that {@link #number()} throws, so a stale number is never reused by
 * mistake for a descriptor the kernel has since handed out again.
 */
public final class Fd implements AutoCloseable {
  private final int number;
  private final LinuxSyscalls owner;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Wraps descriptor {@code number}, to be closed through {@code owner}. */
  public Fd(int number, LinuxSyscalls owner) {
    if (number < 0) {
      throw new IllegalArgumentException("not a descriptor: " + number);
    }
    this.number = number;
    this.owner = owner;
  }

  /** The descriptor number. Throws once closed. */
  public int number() {
    if (closed.get()) {
      throw new IllegalStateException("descriptor " + number + " is closed");
    }
    return number;
  }

  /** True until closed. */
  public boolean isOpen() {
    return !closed.get();
  }

  /**
   * Marks this descriptor closed; true for the one caller that must call close(2). Used by
   * {@link LinuxSyscalls#close} implementations only.
   */
  public boolean markClosed() {
    return closed.compareAndSet(false, true);
  }

  /** The raw number even after close, for log lines only. */
  public int rawNumberForLogs() {
    return number;
  }

  @Override
  public void close() {
    owner.close(this);
  }

  @Override
  public String toString() {
    return "fd " + number + (closed.get() ? " (closed)" : "");
  }
}
