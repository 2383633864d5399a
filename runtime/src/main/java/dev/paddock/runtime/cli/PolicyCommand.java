package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.paddock.audit.log.DurableFiles;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.runtime.policy.PackException;
import dev.paddock.runtime.policy.PolicyPack;
import dev.paddock.runtime.policy.PolicyPackStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code paddock policy}: signed policy packs (sandbox policies, tenants' budgets, egress lists and
 * secret bindings as one YAML document; see PolicyPack). Works on files: a running host takes an
 * applied pack within a second.
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = {"Signed policy packs: sign, verify, trust, apply, roll back, show.",
        "A pack in force is the host's one source of sandbox policies, budgets, egress lists and secret bindings."},
    subcommands = {PolicyCommand.NewKey.class, PolicyCommand.Sign.class, PolicyCommand.Verify.class, PolicyCommand.Trust.class,
        PolicyCommand.Apply.class, PolicyCommand.Rollback.class, PolicyCommand.Status.class})
final class PolicyCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** The data directory option shared by the subcommands that work on a host's files. */
  static final class DataDir {
    @Option(names = "--data-dir", defaultValue = "${env:PADDOCK_DATA_DIR:-.paddock/data}",
        description = "The host's data directory. Default: ${DEFAULT-VALUE}.")
    Path dir;
  }

  private static int fail(String command, String message) {
    System.err.println("paddock policy " + command + ": " + message);
    return 2;
  }

  /** A verifier key given as itself or as a file holding it. */
  private static String keyText(String keyOrFile) throws IOException {
    Path file = Path.of(keyOrFile);
    return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : keyOrFile;
  }

  private static NoteSigner signer(Path file) throws IOException, NoteException {
    DurableFiles.requireOwnerOnly(file, "the policy signing key");
    return NoteSigner.parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  private static String describe(PolicyPack p) {
    return p.label() + " (version " + p.version() + ", " + p.policies().size() + " policies, " + p.tenants().size() + " tenants"
        + (p.description().isEmpty() ? "" : ": " + p.description()) + ")";
  }

  /** {@code paddock policy new-key}. */
  @Command(name = "new-key", mixinStandardHelpOptions = true,
      description = {"Makes an Ed25519 key for signing policy packs, writes it to FILE (owner-only), and prints its",
          "verifier key: give that to each host with paddock policy trust."})
  static final class NewKey implements Callable<Integer> {
    @Option(names = "--name", required = true, description = "The key's name, e.g. policy.example.com.")
    String name;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where the signing key goes (must not exist).")
    Path out;

    @Override
    public Integer call() {
      return AuditCommand.newKey("paddock policy new-key", name, out);
    }
  }

  /** {@code paddock policy sign}. */
  @Command(name = "sign", mixinStandardHelpOptions = true,
      description = "Checks a pack (YAML) and writes it signed: the pack, a blank line, the signature line (a C2SP signed note).")
  static final class Sign implements Callable<Integer> {
    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The signing key (paddock policy new-key).")
    Path key;

    @Option(names = "--out", paramLabel = "FILE", description = "Where the signed pack goes. Default: standard output.")
    Path out;

    @Parameters(paramLabel = "PACK", description = "The pack's YAML.")
    Path pack;

    @Override
    public Integer call() {
      try {
        String text = Files.readString(pack, StandardCharsets.UTF_8);
        text = text.endsWith("\n") ? text : text + "\n";
        PolicyPack parsed = PolicyPack.parse(text);
        String signed = signer(key).sign(text);
        if (out == null) {
          System.out.print(signed);
        } else {
          DurableFiles.replace(out, signed.getBytes(StandardCharsets.UTF_8), DurableFiles.OWNER_ONLY);
          System.err.println("signed " + describe(parsed) + " into " + out);
        }
        return 0;
      } catch (IOException | NoteException | IllegalArgumentException e) {
        return fail("sign", e.getMessage());
      }
    }
  }

  /** {@code paddock policy verify}. */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = "Checks a signed pack against a verifier key (or a host's trusted keys); exit 0 and its label when it holds.")
  static final class Verify implements Callable<Integer> {
    @Option(names = "--verifier-key", paramLabel = "KEY|FILE", description = "A verifier key, or a file holding one.")
    String verifierKey;

    @Option(names = "--data-dir", description = "Use this host's trusted keys instead.")
    Path dataDir;

    @Parameters(paramLabel = "SIGNED", description = "The signed pack.")
    Path signed;

    @Override
    public Integer call() {
      try {
        List<NoteVerifier> keys;
        if (verifierKey != null) {
          String text = keyText(verifierKey);
          keys = List.of(NoteVerifier.parse(text));
        } else if (dataDir != null) {
          keys = new PolicyPackStore(dataDir).verifiers();
        } else {
          return fail("verify", "give --verifier-key or --data-dir");
        }
        PolicyPackStore.Verified v = PolicyPackStore.verify(Files.readString(signed, StandardCharsets.UTF_8), keys);
        System.out.println("OK " + describe(v.pack()) + ", signed by " + v.signedBy());
        return 0;
      } catch (PackException e) {
        System.err.println("paddock policy verify: " + e.getMessage());
        return 1;
      } catch (IOException | NoteException | java.nio.file.InvalidPathException e) {
        return fail("verify", e.getMessage());
      }
    }
  }

  /** {@code paddock policy trust}. */
  @Command(name = "trust", mixinStandardHelpOptions = true,
      description = "Adds a verifier key to a host's trusted keys (<data-dir>/policy/verifier.keys): packs signed by it may be applied.")
  static final class Trust implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    DataDir data;

    @Parameters(paramLabel = "KEY|FILE", description = "The verifier key (paddock policy new-key prints it), or a file holding it.")
    String key;

    @Override
    public Integer call() {
      try {
        String text = keyText(key);
        new PolicyPackStore(data.dir).trust(text.strip());
        System.err.println("trusted " + text.strip());
        return 0;
      } catch (IOException | java.nio.file.InvalidPathException e) {
        return fail("trust", e.getMessage());
      }
    }
  }

  /** {@code paddock policy apply}. */
  @Command(name = "apply", mixinStandardHelpOptions = true,
      description = {"Puts a signed pack in force on a host: verified against its trusted keys, its version higher than",
          "the pack in force, kept under <data-dir>/policy/applied/. A running host takes it within a second."})
  static final class Apply implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    DataDir data;

    @Parameters(paramLabel = "SIGNED", description = "The signed pack.")
    Path signed;

    @Override
    public Integer call() {
      try {
        PolicyPackStore.Verified v = new PolicyPackStore(data.dir).apply(Files.readString(signed, StandardCharsets.UTF_8));
        System.out.println("applied " + describe(v.pack()) + ", signed by " + v.signedBy());
        return 0;
      } catch (PackException e) {
        System.err.println("paddock policy apply: " + e.getMessage() + "; the pack in force stays");
        return 1;
      } catch (IOException e) {
        return fail("apply", e.getMessage());
      }
    }
  }

  /** {@code paddock policy rollback}. */
  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = {"Puts an earlier pack's content back in force: signs it anew with the next version (so an old",
          "signed pack can never be replayed by itself) and applies it."})
  static final class Rollback implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    DataDir data;

    @Option(names = "--to", required = true, paramLabel = "VERSION", description = "The applied version to go back to.")
    long to;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The signing key.")
    Path key;

    @Override
    public Integer call() {
      try {
        PolicyPackStore store = new PolicyPackStore(data.dir);
        long now = store.current().map(v -> v.pack().version()).orElseThrow(() -> new PackException("no pack is in force"));
        String oldText = dev.paddock.audit.note.SignedNote.parse(store.appliedText(to)).text();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));
        ObjectNode doc = (ObjectNode) yaml.readTree(oldText);
        doc.put("version", now + 1);
        String description = doc.path("description").asText("");
        doc.put("description", "rollback to version " + to + (description.isEmpty() ? "" : ": " + description));
        String text = yaml.writeValueAsString(doc);
        PolicyPack.parse(text);
        PolicyPackStore.Verified v = store.apply(signer(key).sign(text));
        System.out.println("applied " + describe(v.pack()) + ", the content of version " + to);
        return 0;
      } catch (PackException e) {
        System.err.println("paddock policy rollback: " + e.getMessage());
        return 1;
      } catch (IOException | NoteException | IllegalArgumentException e) {
        return fail("rollback", e.getMessage());
      }
    }
  }

  /** {@code paddock policy status}. */
  @Command(name = "status", mixinStandardHelpOptions = true, description = "Shows the pack in force on a host and the trusted keys.")
  static final class Status implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    DataDir data;

    @Override
    public Integer call() {
      PolicyPackStore store = new PolicyPackStore(data.dir);
      try {
        store.verifiers().forEach(k -> System.out.println("trusted key: " + k.name()));
        System.out.println(store.current().map(v -> "in force: " + describe(v.pack()) + ", signed by " + v.signedBy())
            .orElse("no policy pack: the tenants file's settings hold"));
        return 0;
      } catch (PackException e) {
        System.err.println("paddock policy status: the pack file is refused: " + e.getMessage());
        return 1;
      } catch (IOException e) {
        return fail("status", e.getMessage());
      }
    }
  }
}
