package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.Signal;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.SignalExecResponse;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

/** {@code paddock kill}: sends a signal to an exec (SignalExec). */
@Command(name = "kill", mixinStandardHelpOptions = true,
    description = {"Sends a signal to a running exec. KILL kills its whole process tree; the others go to its main process.",
        "Prints nothing; notes on stderr when the exec had already ended (not an error). With --json: the SignalExecResponse."})
final class KillCommand extends ClientCommand {
  /** The signals SignalExec accepts, by their usual names. */
  static final List<String> NAMES = List.of("TERM", "INT", "KILL", "HUP", "QUIT", "USR1", "USR2");

  @Option(names = "--session", required = true, paramLabel = "SESSION", description = "Session id of the exec.")
  String sessionId;

  @Option(names = {"-s", "--signal"}, paramLabel = "SIGNAL", defaultValue = "TERM", converter = SignalName.class,
      description = "TERM, INT, KILL, HUP, QUIT, USR1 or USR2 (with or without SIG, any case). Default: ${DEFAULT-VALUE}.")
  Signal signal;

  @Parameters(paramLabel = "EXEC", description = "Exec id (from exec --detach, ps).")
  String execId;

  @Override
  int run(Client client) {
    SignalExecResponse response = client.execs().signalExec(SignalExecRequest.newBuilder()
        .setSessionId(sessionId).setExecId(execId).setSignal(signal).build());
    if (client.out().json()) {
      client.out().json(response);
    } else if (!response.getDelivered()) {
      client.out().note("exec " + execId + " had already ended");
    }
    return 0;
  }

  /** {@code TERM}, {@code sigterm}, {@code SIGKILL} ... as a SignalExec {@link Signal}. */
  static final class SignalName implements ITypeConverter<Signal> {
    @Override
    public Signal convert(String value) {
      String name = value.trim().toUpperCase(Locale.ROOT);
      if (name.startsWith("SIG")) {
        name = name.substring(3);
      }
      if (!NAMES.contains(name)) {
        throw new TypeConversionException("unknown signal '" + value + "': use one of " + String.join(", ", NAMES));
      }
      return Signal.valueOf("SIGNAL_" + name);
    }
  }
}
