package dev.paddock.sandbox.linux;

import dev.paddock.sandbox.linux.internal.JnrLinuxSyscalls;
import java.util.List;

/**
 * The few Linux calls the host makes directly, with Java types and typed errors. Everything above
 * this interface is plain Java; the jnr-ffi binding stays in {@code internal}.
 */
public interface LinuxSyscalls {

  /** Sends {@code signal} to process {@code pid} (a host pid). ESRCH means it is already gone. */
  void sendSignal(long pid, Signal signal) throws NativeException;

  /**
   * The records now in the kernel log ({@code /dev/kmsg}), oldest first, each without its
   * {@code "prio,seq,time,flags;"} prefix. Reading never blocks.
   */
  List<String> kernelLogRecords() throws NativeException;

  /** The binding backed by the running libc. */
  static LinuxSyscalls system() {
    return JnrLinuxSyscalls.instance();
  }
}
