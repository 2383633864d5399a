package dev.paddock.runtime.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * Base of the commands that call a host: they get the shared {@link ClientOptions} and implement
 * {@link #run(Client)}; connecting, error reporting and exit codes happen in one place.
 */
abstract class ClientCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Override
  public Integer call() throws Exception {
    return client.run(this::run);
  }

  /** Does the command's work over a connected client; returns the exit code. */
  abstract int run(Client client) throws Exception;
}
