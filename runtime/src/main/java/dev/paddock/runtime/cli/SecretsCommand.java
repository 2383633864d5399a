package dev.paddock.runtime.cli;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.DeleteSecretRequest;
import dev.paddock.ipc.v1.ListSecretsRequest;
import dev.paddock.ipc.v1.ListSecretsResponse;
import dev.paddock.ipc.v1.PutSecretRequest;
import dev.paddock.ipc.v1.RotateSecretKeyRequest;
import dev.paddock.ipc.v1.RotateSecretKeyResponse;
import dev.paddock.ipc.v1.SecretInfo;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock secrets}: your tenant's secrets, kept encrypted by the host. Values go in, never out. */
@Command(name = "secrets", mixinStandardHelpOptions = true,
    description = {"Your tenant's secrets, encrypted at rest by the host (AES-256-GCM, a data key per tenant under",
        "the host's master key). Needs a key with the \"secrets\" scope. No command prints a value."},
    subcommands = {SecretsCommand.Put.class, SecretsCommand.List.class, SecretsCommand.Delete.class,
        SecretsCommand.Rotate.class, SecretsCommand.RotateMaster.class})
final class SecretsCommand implements Runnable {
  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "give a subcommand: put, list, delete, rotate, rotate-master");
  }

  /** The longest value read from stdin, bytes (the host's limit). */
  private static final int MAX_VALUE_BYTES = 64 * 1024;

  /** {@code paddock secrets put}. */
  @Command(name = "put", mixinStandardHelpOptions = true,
      description = {"Stores the value read from standard input (never from the command line, where other users",
          "could see it) as NAME, replacing any earlier value. One trailing newline is dropped."})
  static final class Put extends ClientCommand {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "e.g. GITHUB_TOKEN")
    String name;

    @Override
    int run(Client client) {
      byte[] value;
      try {
        value = readValue(System.in);
      } catch (IOException e) {
        System.err.println("paddock secrets put: cannot read the value from standard input: " + e.getMessage());
        return 2;
      }
      SecretInfo info;
      try {
        info = client.secrets().putSecret(PutSecretRequest.newBuilder().setName(name).setValue(ByteString.copyFrom(value)).build());
      } finally {
        java.util.Arrays.fill(value, (byte) 0);
      }
      Output out = client.out();
      if (out.json()) {
        out.json(info);
      } else {
        out.line(info.getName() + " version " + info.getVersion());
      }
      return 0;
    }
  }

  /** Standard input, at most 64 KiB and one byte, with one trailing newline dropped. */
  static byte[] readValue(InputStream in) throws IOException {
    byte[] all = in.readNBytes(MAX_VALUE_BYTES + 1);
    int n = all.length;
    if (n > 0 && all[n - 1] == '\n') {
      n--;
      if (n > 0 && all[n - 1] == '\r') {
        n--;
      }
    }
    byte[] value = java.util.Arrays.copyOf(all, n);
    java.util.Arrays.fill(all, (byte) 0);
    return value;
  }

  /** {@code paddock secrets list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Lists your secrets: NAME VERSION UPDATED, and the data key they are under. Never values.")
  static final class List extends ClientCommand {
    @Override
    int run(Client client) {
      ListSecretsResponse listing = client.secrets().listSecrets(ListSecretsRequest.getDefaultInstance());
      Output out = client.out();
      if (out.json()) {
        out.json(listing);
        return 0;
      }
      for (SecretInfo s : listing.getSecretsList()) {
        out.line(s.getName() + " " + s.getVersion() + " "
            + Instant.ofEpochSecond(s.getUpdated().getSeconds(), s.getUpdated().getNanos()));
      }
      if (!listing.getDataKeyId().isEmpty()) {
        out.line("data key " + listing.getDataKeyId() + " made "
            + Instant.ofEpochSecond(listing.getDataKeyCreated().getSeconds(), listing.getDataKeyCreated().getNanos()));
      }
      return 0;
    }
  }

  /** {@code paddock secrets delete}. */
  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes the secret NAME.")
  static final class Delete extends ClientCommand {
    @Option(names = "--name", required = true, paramLabel = "NAME")
    String name;

    @Override
    int run(Client client) {
      client.secrets().deleteSecret(DeleteSecretRequest.newBuilder().setName(name).build());
      client.out().line("deleted " + name);
      return 0;
    }
  }

  /** {@code paddock secrets rotate}. */
  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {"Replaces your tenant's data key: every secret is re-encrypted under a new one and the old one is",
          "destroyed. The host also does this by itself when the key is 90 days old."})
  static final class Rotate extends ClientCommand {
    @Override
    int run(Client client) {
      RotateSecretKeyResponse r = client.secrets().rotateSecretKey(RotateSecretKeyRequest.getDefaultInstance());
      Output out = client.out();
      if (out.json()) {
        out.json(r);
      } else {
        out.line("data key " + r.getDataKeyId() + ", " + r.getSecrets() + " secrets re-encrypted");
      }
      return 0;
    }
  }

  /** {@code paddock secrets rotate-master}. */
  @Command(name = "rotate-master", mixinStandardHelpOptions = true,
      description = {"Operator, host stopped: replaces the vault master key of a data directory. Every tenant's data key",
          "is re-wrapped under a new master key, which takes the old one's place; values are not touched. Recorded in",
          "the directory's audit log. Safe to run again if it was stopped part-way."})
  static final class RotateMaster implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The host's data directory.")
    java.nio.file.Path dataDir;

    @Override
    public Integer call() {
      try {
        var r = dev.paddock.runtime.VaultMasterRotation.rotate(dataDir, java.time.Clock.systemUTC());
        System.out.println("master key " + r.from() + " -> " + r.to() + ", " + r.dataKeys() + " data keys re-wrapped");
        return 0;
      } catch (IOException e) {
        System.err.println("paddock secrets rotate-master: " + e.getMessage());
        return 2;
      }
    }
  }
}
