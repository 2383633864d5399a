package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecResult;
import dev.paddock.ipc.v1.ListExecsRequest;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock ps}: the execs of a session (ListExecs, every page). */
@Command(name = "ps", mixinStandardHelpOptions = true,
    description = {"Lists the execs of a session, running ones and finished ones still retained, oldest first.",
        "Columns: EXEC ID, STATE, STATUS/EXIT, STARTED (UTC), ARGV. With --json: one ExecInfo per line."})
final class PsCommand extends ClientCommand {
  @Option(names = "--session", required = true, paramLabel = "SESSION", description = "Session id.")
  String sessionId;

  @Option(names = "--running", description = "Only execs still running.")
  boolean running;

  @Override
  int run(Client client) {
    Output out = client.out();
    List<List<String>> rows = new ArrayList<>();
    Client.allPages(
        token -> client.execs().listExecs(ListExecsRequest.newBuilder()
            .setSessionId(sessionId).setRunningOnly(running).setPageToken(token).build()),
        page -> page.getNextPageToken(),
        page -> {
          for (ExecInfo exec : page.getExecsList()) {
            if (out.json()) {
              out.json(exec);
            } else {
              rows.add(List.of(exec.getExecId(), Output.shortName(exec.getState(), "EXEC_STATE_"),
                  exec.hasResult() ? outcome(exec.getResult()) : "-",
                  Output.time(exec.hasStartTime(), exec.getStartTime()), Output.shellJoin(exec.getArgvList())));
            }
          }
        });
    if (!out.json()) {
      out.table(List.of("EXEC ID", "STATE", "STATUS/EXIT", "STARTED", "ARGV"), rows);
    }
    return 0;
  }

  /** {@code exit 0}, {@code SIGNALED 15}, {@code VIOLATION ptrace}, {@code TIMEOUT}, ... */
  static String outcome(ExecResult r) {
    return switch (r.getStatus()) {
      case EXEC_STATUS_OK -> "exit " + r.getExitCode();
      case EXEC_STATUS_PIDS_EXHAUSTED -> "PIDS_EXHAUSTED exit " + r.getExitCode();
      case EXEC_STATUS_SIGNALED -> "SIGNALED " + r.getSignal();
      case EXEC_STATUS_VIOLATION -> "VIOLATION " + r.getViolationSyscall();
      default -> Output.shortName(r.getStatus(), "EXEC_STATUS_");
    };
  }
}
