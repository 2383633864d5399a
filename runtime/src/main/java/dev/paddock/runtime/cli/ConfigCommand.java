package dev.paddock.runtime.cli;

import dev.paddock.runtime.tenant.TenantsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code paddock config}: the operator's configuration files, checked without a running host. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Checks the operator's configuration.",
    subcommands = {ConfigCommand.Check.class})
final class ConfigCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** {@code paddock config check FILE}. */
  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Validates a tenants file as the host would, reporting every problem at once as FILE:LINE: FIELD: MESSAGE.",
          "Exit 0 when it is valid, 1 when it is not, 2 when it cannot be read. A running host refuses an invalid change",
          "the same way, and keeps the last good file in force."})
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The file, e.g. .paddock/data/tenants.yaml.")
    Path file;

    @Override
    public Integer call() {
      List<String> problems;
      try {
        if (!Files.isRegularFile(file)) {
          System.err.println("paddock config check: " + file + " is not a file");
          return 2;
        }
        problems = TenantsFile.check(file);
      } catch (IOException e) {
        System.err.println("paddock config check: cannot read " + file + ": " + e.getMessage());
        return 2;
      }
      if (problems.isEmpty()) {
        System.out.println(file + ": valid");
        return 0;
      }
      problems.forEach(System.out::println);
      System.err.println(problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + " in " + file);
      return 1;
    }
  }
}
