package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.paddock.audit.log.AuditVerifier;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.ConsistencyProof;
import dev.paddock.ipc.v1.GetCheckpointRequest;
import dev.paddock.ipc.v1.GetConsistencyProofRequest;
import dev.paddock.ipc.v1.GetInclusionProofRequest;
import dev.paddock.ipc.v1.InclusionProof;
import dev.paddock.ipc.v1.StreamAuditRecordsRequest;
import dev.paddock.runtime.audit.AuditTrail;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paddock audit}: the audit log, for the tenants who read it and the auditors who check it. */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = "Reads the audit log, prints its signed checkpoint and proofs, and verifies it offline.",
    subcommands = {AuditCommand.Tail.class, AuditCommand.Verify.class, AuditCommand.CheckpointCommand.class,
        AuditCommand.Prove.class, AuditCommand.PublicKey.class, AuditCommand.NewKey.class})
final class AuditCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** {@code paddock audit tail}. */
  @Command(name = "tail", mixinStandardHelpOptions = true,
      description = {"Prints your tenant's audit records (all records with an admin key): SEQ TIME TENANT ACTOR ACTION",
          "TARGET OUTCOME, one a line; with --json one AuditRecord per line. With --follow, waits for new ones."})
  static final class Tail extends ClientCommand {
    @Option(names = "--follow", description = "Keep printing records as they are written, until interrupted.")
    boolean follow;

    @Option(names = "--from", paramLabel = "SEQ", description = "The first sequence to read (default 0).")
    long from;

    @Override
    int run(Client client) {
      Iterator<AuditRecord> records = client.audit().streamAuditRecords(
          StreamAuditRecordsRequest.newBuilder().setFromSequence(from).setFollow(follow).build());
      Output out = client.out();
      while (records.hasNext()) {
        AuditRecord r = records.next();
        if (out.json()) {
          out.json(r);
        } else {
          out.line(String.join(" ", Long.toString(r.getSequence()),
              Instant.ofEpochSecond(r.getTime().getSeconds(), r.getTime().getNanos()).toString(),
              dash(r.getTenant()), dash(r.getActor()), r.getAction().name().replace("AUDIT_ACTION_", ""),
              dash(r.getTarget()), r.getOutcome()));
        }
      }
      return 0;
    }

    private static String dash(String s) {
      return s.isEmpty() ? "-" : s;
    }
  }

  /** {@code paddock audit checkpoint}. */
  @Command(name = "checkpoint", mixinStandardHelpOptions = true,
      description = "Prints the latest signed checkpoint exactly as the host stored it (a C2SP signed-note).")
  static final class CheckpointCommand extends ClientCommand {
    @Override
    int run(Client client) {
      System.out.print(client.audit().getCheckpoint(GetCheckpointRequest.getDefaultInstance()).getSignedNote());
      System.out.flush();
      return 0;
    }
  }

  /** {@code paddock audit public-key}. */
  @Command(name = "public-key", mixinStandardHelpOptions = true,
      description = {"Prints the log's verifier key in signed-note form (<name>+<hash>+<base64 key>), as Go's note",
          "package reads it. With --data-dir, read from the host's data directory instead of asking the host."})
  static final class PublicKey extends ClientCommand {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "The host's data directory (no host needed).")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
      if (dataDir != null) {
        System.out.println(Files.readString(dataDir.resolve(AuditTrail.VERIFIER_KEY_FILE), StandardCharsets.UTF_8).strip());
        return 0;
      }
      return super.call();
    }

    @Override
    int run(Client client) {
      System.out.println(client.audit().getCheckpoint(GetCheckpointRequest.getDefaultInstance()).getVerifierKey());
      return 0;
    }
  }

  /** {@code paddock audit new-key}. */
  @Command(name = "new-key", mixinStandardHelpOptions = true,
      description = {"Makes an Ed25519 signing key for the audit log (for paddock serve --audit-signing-key), writes it",
          "to FILE readable by its owner only, and prints its verifier key (what auditors give paddock audit verify)."})
  static final class NewKey implements Callable<Integer> {
    @Option(names = "--name", required = true, paramLabel = "NAME",
        description = "The key's name, which is the log's origin in every checkpoint, e.g. audit.example.com/paddock.")
    String name;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where the signing key goes (must not exist).")
    Path out;

    @Override
    public Integer call() {
      return newKey("paddock audit new-key", name, out);
    }
  }

  /**
   * Makes an Ed25519 signing key named {@code name} in {@code out} (owner-only, never over an
   * existing file) and prints its verifier key; the exit code. Shared by the commands that make keys.
   */
  static int newKey(String command, String name, Path out) {
    try {
      System.out.println(AuditTrail.newSigningKey(name, out).verifierKey());
      return 0;
    } catch (java.nio.file.FileAlreadyExistsException e) {
      System.err.println(command + ": " + out + " exists; it is never overwritten");
      return 2;
    } catch (IOException e) {
      System.err.println(command + ": " + e.getMessage());
      return 2;
    }
  }

  /** {@code paddock audit prove}. */
  @Command(name = "prove", mixinStandardHelpOptions = true,
      description = {"Prints an RFC 6962 proof as JSON, hashes in base64:",
          "  --index I --size N: inclusion of record I in the tree of N records (leafIndex, treeSize, leafHash, root, proof);",
          "  --from M --size N: consistency of the tree of M records with that of N (fromSize, toSize, fromRoot, root, proof).",
          "--size 0 or none: the latest checkpoint's size."})
  static final class Prove extends ClientCommand {
    @Option(names = "--index", paramLabel = "I", description = "A record's sequence.")
    Long index;

    @Option(names = "--from", paramLabel = "M", description = "The older tree's size.")
    Long fromSize;

    @Option(names = "--size", paramLabel = "N", description = "The tree's size (default: the latest checkpoint's).")
    long size;

    @Override
    int run(Client client) {
      if ((index == null) == (fromSize == null)) {
        System.err.println("paddock audit prove: give exactly one of --index and --from");
        return 2;
      }
      ObjectNode json = JsonNodeFactory.instance.objectNode();
      if (index != null) {
        InclusionProof p = client.audit().getInclusionProof(
            GetInclusionProofRequest.newBuilder().setLeafIndex(index).setTreeSize(size).build());
        json.put("leafIndex", p.getLeafIndex()).put("treeSize", p.getTreeSize())
            .put("leafHash", b64(p.getLeafHash())).put("root", b64(p.getRootHash()));
        proof(json, p.getProofList());
      } else {
        ConsistencyProof p = client.audit().getConsistencyProof(
            GetConsistencyProofRequest.newBuilder().setFromSize(fromSize).setToSize(size).build());
        json.put("fromSize", p.getFromSize()).put("toSize", p.getToSize())
            .put("fromRoot", b64(p.getFromRoot())).put("root", b64(p.getToRoot()));
        proof(json, p.getProofList());
      }
      client.out().json(json);
      return 0;
    }

    private static void proof(ObjectNode json, List<ByteString> nodes) {
      ArrayNode proof = json.putArray("proof");
      nodes.forEach(n -> proof.add(b64(n)));
    }

    private static String b64(ByteString bytes) {
      return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }
  }

  /** {@code paddock audit verify}. */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Checks an audit log offline: every record's checksum and sequence, the Merkle tree rebuilt from the",
          "records against every signed checkpoint, and every signature, with only the files and the public key.",
          "Give the log directory (e.g. .paddock/data/audit) and any directories sealed segments were shipped to.",
          "Exit 0 when it verifies, 1 naming the first bad record when it does not, 2 when it cannot be read."})
  static final class Verify implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "1..*", description = "The log's directory, then any shipped copies.")
    List<Path> dirs;

    @Option(names = "--public-key", paramLabel = "FILE", required = true,
        description = "The log's verifier key (paddock audit public-key), in a file.")
    Path publicKey;

    @Override
    public Integer call() {
      NoteVerifier key;
      try {
        key = NoteVerifier.parse(Files.readString(publicKey, StandardCharsets.UTF_8));
      } catch (IOException | NoteException e) {
        System.err.println("paddock audit verify: cannot read the public key " + publicKey + ": " + e.getMessage());
        return 2;
      }
      AuditVerifier.Report report;
      try {
        report = AuditVerifier.verify(dirs, key);
      } catch (IOException e) {
        System.err.println("paddock audit verify: cannot read the log: " + e.getMessage());
        return 2;
      }
      report.notes().forEach(n -> System.err.println("note: " + n));
      if (!report.ok()) {
        System.out.println("FAILED: " + report.problem());
        return 1;
      }
      System.out.println("OK: " + report.records() + " records, " + report.checkpoints() + " signed checkpoints"
          + (report.latestCheckpoint() == null ? "" : "; latest: " + report.latestCheckpoint().size() + " records, root "
          + Base64.getEncoder().encodeToString(report.latestCheckpoint().rootHash())));
      return 0;
    }
  }
}
