package dev.paddock.runtime.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code paddock}: the host and its command-line client. */
@Command(
    name = "paddock",
    mixinStandardHelpOptions = true,
    version = "paddock 0.1.0",
    description = "Agent sandbox execution runtime: runs tools inside per-task nsjail sandboxes over gRPC.")
public final class PaddockCli implements Runnable {
  /** Every subcommand, in the order help lists them. */
  private static final List<Class<?>> SUBCOMMANDS = List.of(ServeCommand.class, ExecCommand.class, SessionCommand.class,
      PsCommand.class, AttachCommand.class, KillCommand.class, FilesCommand.class, ArtifactCommand.class, UsageCommand.class,
      AuditCommand.class, ConfigCommand.class, KeysCommand.class, SecretsCommand.class, PolicyCommand.class,
      BrowserCommand.class, DoctorCommand.class, HealthCommand.class, CommandLine.HelpCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    if (args.length == 0 || !args[0].equals("serve")) {
      // A client command lives well under a second. Netty's default (adaptive pooling) allocator
      // reports to Java Flight Recorder, and merely defining those events starts JFR's machinery,
      // about 70 ms before the first byte goes out; plain heap buffers suit a short command. The
      // host keeps the pooled one.
      System.setProperty("io.grpc.netty.shaded.io.netty.allocator.type", "unpooled");
      // Netty logs through the JDK's logging (as grpc does) instead of starting Logback, which
      // costs a short command a sixth of its time. The host keeps Logback.
      io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
          io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
      ClientWarmup.start();
    }
    System.exit(commandLine(args.length == 0 ? "" : args[0]).execute(args));
  }

  /** The configured command line with every subcommand (also used by tests). */
  public static CommandLine commandLine() {
    return commandLine("");
  }

  /**
   * The configured command line; with {@code only} naming a subcommand, with that one alone:
   * picocli reads every option of every subcommand it is given, a third of a short command's time.
   */
  static CommandLine commandLine(String only) {
    CommandLine cli = new CommandLine(new PaddockCli());
    List<Class<?>> named = SUBCOMMANDS.stream()
        .filter(c -> c.getAnnotation(Command.class).name().equals(only)).toList();
    for (Class<?> c : named.isEmpty() || only.equals("help") ? SUBCOMMANDS : named) {
      cli.addSubcommand(c);
    }
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
