package dev.paddock.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code paddock}: the host and its command-line client. */
@Command(
    name = "paddock",
    mixinStandardHelpOptions = true,
    version = "paddock 0.1.0",
    description = "Agent sandbox execution runtime: runs tools inside per-task nsjail sandboxes over gRPC.",
    subcommands = {ServeCommand.class, ExecCommand.class, SessionCommand.class, PsCommand.class, AttachCommand.class,
        KillCommand.class, FilesCommand.class, ArtifactCommand.class, UsageCommand.class, AuditCommand.class, ConfigCommand.class, KeysCommand.class, SecretsCommand.class, PolicyCommand.class, BrowserCommand.class,
        CommandLine.HelpCommand.class})
public final class PaddockCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line (also used by tests). */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new PaddockCli());
    cli.registerConverter(java.time.Duration.class, new Durations.Converter());
    exitCodes(cli);
    return cli;
  }

  /** A bad option value or an unexpected failure exits 120 (host or call error) in every (sub)command, not picocli's 2 / 1. */
  private static void exitCodes(CommandLine cli) {
    cli.getCommandSpec().exitCodeOnInvalidInput(ExecCommand.EXIT_HOST_ERROR);
    cli.getCommandSpec().exitCodeOnExecutionException(ExecCommand.EXIT_HOST_ERROR);
    cli.getSubcommands().values().forEach(PaddockCli::exitCodes);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
