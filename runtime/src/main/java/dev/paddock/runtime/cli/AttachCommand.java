package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.AttachExecRequest;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paddock attach}: follows a running or finished exec (AttachExec). */
@Command(name = "attach", mixinStandardHelpOptions = true,
    description = {"Follows an exec: streams its retained, then live, stdout and stderr until it ends.",
        "Exits with its exit code, mapped as for exec (see exec --help). Leaving (Ctrl-C) does not affect the exec.",
        "With --json: every ExecEvent as one JSON line."})
final class AttachCommand extends ClientCommand {
  @Option(names = "--session", required = true, paramLabel = "SESSION", description = "Session id of the exec.")
  String sessionId;

  @Option(names = "--stdout-offset", paramLabel = "BYTES", converter = Units.Bytes.class, defaultValue = "0",
      description = "Resume stdout at this byte offset. Default: 0, the oldest byte the host retained.")
  long stdoutOffset;

  @Option(names = "--stderr-offset", paramLabel = "BYTES", converter = Units.Bytes.class, defaultValue = "0",
      description = "Resume stderr at this byte offset. Default: 0, the oldest byte the host retained.")
  long stderrOffset;

  @Parameters(paramLabel = "EXEC", description = "Exec id (from exec --detach, ps).")
  String execId;

  @Override
  int run(Client client) throws IOException {
    return ExecCommand.follow(client.execStreams().attachExec(AttachExecRequest.newBuilder()
        .setSessionId(sessionId).setExecId(execId).setStdoutOffset(stdoutOffset).setStderrOffset(stderrOffset).build()),
        client.out());
  }
}
