package dev.paddock.client;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.SecretEnv;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What to run in a session: argv (no shell: pass {@code "sh", "-c", "..."} for one), and its
 * environment, working directory, stdin and limits. Immutable; each {@code with} method returns a
 * new command.
 */
public final class Command {
  private final ExecRequest request;

  private Command(ExecRequest request) {
    this.request = request;
  }

  /** {@code argv[0]} is looked up in the jail's PATH. */
  public static Command of(String... argv) {
    return of(List.of(argv));
  }

  public static Command of(List<String> argv) {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must not be empty");
    }
    return new Command(ExecRequest.newBuilder().addAllArgv(argv).build());
  }

  /** Adds an environment variable (on top of the jail's own PATH, HOME, LANG). */
  public Command env(String name, String value) {
    return new Command(request.toBuilder().putEnv(Objects.requireNonNull(name), Objects.requireNonNull(value)).build());
  }

  /** The working directory, relative to the workspace or absolute inside it. Default: the workspace. */
  public Command cwd(String cwd) {
    return new Command(request.toBuilder().setCwd(cwd).build());
  }

  /** Bytes on the command's stdin, then end of file (at most 1 MiB; for more, {@link Session#start}). */
  public Command stdin(byte[] stdin) {
    return new Command(request.toBuilder().setStdin(ByteString.copyFrom(stdin)).build());
  }

  /** Wall-clock limit: the command is killed (status TIMED_OUT) past it. Default: the host's. */
  public Command timeLimit(Duration limit) {
    return new Command(request.toBuilder().setTimeLimit(proto(limit)).build());
  }

  /** CPU-time limit (user + system). Default: none beyond the wall-clock one. */
  public Command cpuTimeLimit(Duration limit) {
    return new Command(request.toBuilder().setCpuTimeLimit(proto(limit)).build());
  }

  /**
   * Gives the command the in-sandbox SDK's channel (progress, artifacts, a scratch store, browsers):
   * its progress and artifacts arrive as events. Default false.
   */
  public Command ipc(boolean ipc) {
    return new Command(request.toBuilder().setIpc(ipc).build());
  }

  /** Puts the tenant's vault secret {@code secret} in environment variable {@code env}; its value never reaches the caller. */
  public Command secretEnv(String env, String secret) {
    return new Command(request.toBuilder().addSecretEnv(SecretEnv.newBuilder().setEnv(env).setSecret(secret)).build());
  }

  /** The request for session {@code sessionId}. */
  ExecRequest request(String sessionId, boolean keepStdinOpen) {
    return request.toBuilder().setSessionId(sessionId).setKeepStdinOpen(keepStdinOpen).build();
  }

  private static com.google.protobuf.Duration proto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
