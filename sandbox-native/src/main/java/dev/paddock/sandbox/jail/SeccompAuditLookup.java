package dev.paddock.sandbox.jail;

import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds which syscall a seccomp kill was for. A KILL_PROCESS filter leaves the process dead before
 * nsjail can read {@code /proc/<pid>/syscall}, so nsjail logs no number; the kernel does, in its
 * audit record (type 1326) in {@code /dev/kmsg}, keyed by the host pid. Where auditd takes those
 * records, or kmsg is unreadable, the syscall is unknown (still a violation).
 */
final class SeccompAuditLookup {
  private static final Pattern RECORD = Pattern.compile("type=1326 .* pid=(\\d+) .* syscall=(\\d+)");

  private final LinuxSyscalls linux;

  SeccompAuditLookup(LinuxSyscalls linux) {
    this.linux = linux;
  }

  /** The syscall number of the newest seccomp record for host pid {@code pid}. */
  OptionalInt syscallOf(int pid) {
    List<String> records;
    try {
      records = linux.kernelLogRecords();
    } catch (NativeException e) {
      return OptionalInt.empty();
    }
    for (int i = records.size() - 1; i >= 0; i--) {
      Matcher m = RECORD.matcher(records.get(i));
      if (m.find() && Integer.parseInt(m.group(1)) == pid) {
        return OptionalInt.of(Integer.parseInt(m.group(2)));
      }
    }
    return OptionalInt.empty();
  }
}
