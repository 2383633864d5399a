package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.paddock.audit.merkle.MerkleProofs;
import dev.paddock.runtime.e2e.CliCapture.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code paddock audit} against a real host, and {@code paddock audit verify} on its files. */
class AuditCliEndToEndTest extends SharedHostTest {
  private Cli cli(String... args) {
    return CliCapture.run(args);
  }

  private Cli client(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--server", "127.0.0.1:" + host.port(), "--api-key", host.alphaKey));
    return cli(all.toArray(String[]::new));
  }

  /** Waits until the latest checkpoint covers every record written so far. */
  private String settledCheckpoint() throws Exception {
    for (int i = 0; i < 100; i++) {
      Cli checkpoint = client("audit", "checkpoint");
      if (checkpoint.exit() == 0 && Long.parseLong(checkpoint.out().split("\n")[1])
          >= dev.paddock.audit.log.Segments.readAll(host.dataDir.resolve("audit")).size()) {
        return checkpoint.out();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no checkpoint covered the log");
  }

  @Test
  void tailCheckpointProveAndPublicKey(@TempDir Path temp) throws Exception {
    String session = host.newSession(host.alphaKey);
    host.exec(host.alphaKey, session, "true");
    Cli tail = client("audit", "tail");
    assertThat(tail.exit()).isZero();
    assertThat(tail.out()).contains(" alpha key:").contains(" SESSION_CREATED " + session + " OK")
        .contains(" EXEC_STARTED exe_").contains(" EXEC_FINISHED exe_");

    String note = settledCheckpoint();
    String publicKey = client("audit", "public-key").out().strip();
    assertThat(publicKey).isEqualTo(Files.readString(host.dataDir.resolve("audit-verifier.key")).strip())
        .matches("[^+\\s]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]+");
    assertThat(cli("audit", "public-key", "--data-dir", host.dataDir.toString()).out().strip()).isEqualTo(publicKey);

    // new-key: a key file of the operator's own (never over an existing one), its verifier key printed.
    Path keyFile = temp.resolve("own.key");
    Cli made = cli("audit", "new-key", "--name", "audit.example.com/paddock", "--out", keyFile.toString());
    assertThat(made.exit()).isZero();
    assertThat(made.out().strip()).startsWith("audit.example.com/paddock+");
    assertThat(dev.paddock.audit.note.NoteSigner.parse(Files.readString(keyFile)).verifierKey()).isEqualTo(made.out().strip());
    assertThat(cli("audit", "new-key", "--name", "x/y", "--out", keyFile.toString()).exit()).isEqualTo(2);
    assertThat(note).isEqualTo(Files.readString(host.dataDir.resolve("audit/checkpoint")));

    // An inclusion proof of the first exec's start, as JSON, checks out against the checkpoint's root.
    String seq = tail.out().lines().filter(l -> l.contains(" EXEC_STARTED ")).findFirst().orElseThrow().split(" ")[0];
    JsonNode proof = new ObjectMapper().readTree(client("audit", "prove", "--index", seq, "--json").out());
    long size = Long.parseLong(note.split("\n")[1]);
    assertThat(proof.get("treeSize").asLong()).isEqualTo(size);
    assertThat(proof.get("root").asText()).isEqualTo(note.split("\n")[2]);
    List<byte[]> nodes = new ArrayList<>();
    proof.get("proof").forEach(n -> nodes.add(Base64.getDecoder().decode(n.asText())));
    MerkleProofs.verifyInclusion(proof.get("leafIndex").asLong(), size, Base64.getDecoder().decode(proof.get("leafHash").asText()),
        nodes, Base64.getDecoder().decode(proof.get("root").asText()));
    JsonNode consistency = new ObjectMapper().readTree(client("audit", "prove", "--from", "1", "--json").out());
    assertThat(consistency.get("toSize").asLong()).isEqualTo(size);
    assertThat(consistency.get("proof")).isNotNull();
  }

  @Test
  void verifyChecksACopyOfTheLogAndNamesTheFirstBadRecord(@TempDir Path temp) throws Exception {
    String session = host.newSession(host.alphaKey);
    host.exec(host.alphaKey, session, "true");
    settledCheckpoint();
    Path copy = temp.resolve("audit");
    Files.createDirectories(copy);
    // The latest checkpoint first, then the segments: a copy taken while the log grows stays valid.
    Files.copy(host.dataDir.resolve("audit/checkpoint"), copy.resolve("checkpoint"));
    try (var files = Files.list(host.dataDir.resolve("audit"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().endsWith(".seg")) {
          Files.copy(f, copy.resolve(f.getFileName()));
        }
      }
    }
    Path key = temp.resolve("key.pub");
    Files.writeString(key, client("audit", "public-key").out());
    Cli ok = cli("audit", "verify", copy.toString(), "--public-key", key.toString());
    assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).startsWith("OK: ");

    Path segment = copy.resolve("audit-00000000000000000000.seg");
    byte[] bytes = Files.readAllBytes(segment);
    bytes[20 + 8 + 5] ^= 0x40; // in record 0's payload
    Files.write(segment, bytes);
    Cli bad = cli("audit", "verify", copy.toString(), "--public-key", key.toString());
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.out()).startsWith("FAILED: record 0 (audit-00000000000000000000.seg, byte 20)");
  }
}
