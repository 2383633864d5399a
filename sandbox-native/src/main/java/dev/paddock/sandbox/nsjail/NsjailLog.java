package dev.paddock.sandbox.nsjail;

import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What nsjail's log (its {@code --log} file) says about one run. nsjail reports a seccomp kill, a
 * signal and an exit only as log lines; its exit code alone cannot tell them apart.
 */
record NsjailLog(
    boolean executed,
    boolean seccompViolation,
    OptionalInt jailedPid,
    OptionalInt exitStatus,
    OptionalInt terminatingSignal,
    OptionalInt violationSyscall,
    LaunchFailure launchFailure,
    List<String> errors) {

  /** Why nsjail could not start the program, when it says so. */
  enum LaunchFailure { NONE, EXECVE, CHDIR, OTHER }


  private static final Pattern EXECUTING = Pattern.compile("Executing '");
  private static final Pattern VIOLATION = Pattern.compile("pid=(\\d+) committed a syscall/seccomp violation");
  private static final Pattern SYSCALL = Pattern.compile("[Ss]yscall[:=]\\s*(\\d+)");
  private static final Pattern EXITED = Pattern.compile("pid=(\\d+) .*exited with status: (\\d+)");
  private static final Pattern SIGNALED = Pattern.compile("pid=(\\d+) .*terminated with signal: \\S+ \\((\\d+)\\)");

  static NsjailLog parse(List<String> lines) {
    boolean executed = false;
    boolean violation = false;
    OptionalInt pid = OptionalInt.empty();
    OptionalInt exit = OptionalInt.empty();
    OptionalInt signal = OptionalInt.empty();
    OptionalInt syscall = OptionalInt.empty();
    List<String> errors = new java.util.ArrayList<>();
    LaunchFailure launch = LaunchFailure.NONE;
    for (String line : lines) {
      if (line.contains("execve(") && line.contains("failed")) {
        launch = LaunchFailure.EXECVE;
      } else if (line.contains("chdir(")) {
        launch = LaunchFailure.CHDIR;
      } else if (launch == LaunchFailure.NONE && line.contains("Launching child process failed")) {
        launch = LaunchFailure.OTHER;
      }
      if (EXECUTING.matcher(line).find()) {
        executed = true;
      }
      Matcher m = VIOLATION.matcher(line);
      if (m.find()) {
        violation = true;
        pid = OptionalInt.of(Integer.parseInt(m.group(1)));
      }
      if (violation) {
        Matcher s = SYSCALL.matcher(line);
        if (s.find()) {
          syscall = OptionalInt.of(Integer.parseInt(s.group(1)));
        }
      }
      m = EXITED.matcher(line);
      if (m.find()) {
        pid = OptionalInt.of(Integer.parseInt(m.group(1)));
        exit = OptionalInt.of(Integer.parseInt(m.group(2)));
      }
      m = SIGNALED.matcher(line);
      if (m.find()) {
        pid = OptionalInt.of(Integer.parseInt(m.group(1)));
        signal = OptionalInt.of(Integer.parseInt(m.group(2)));
      }
      if (line.startsWith("[E]") || line.startsWith("[F]")) {
        errors.add(line);
      }
    }
    return new NsjailLog(executed, violation, pid, exit, signal, syscall, launch, List.copyOf(errors));
  }
}
