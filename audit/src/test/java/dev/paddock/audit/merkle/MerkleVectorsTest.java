package dev.paddock.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The transparency-dev RFC 6962 vectors (test resources, rfc6962-merkle/, Apache-2.0): every vector
 * whose wantErr is false is accepted, every one whose wantErr is true is rejected, and where a
 * vector is about the README's 8-leaf tree, the tree here produces exactly its root and proof.
 */
class MerkleVectorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] LEAVES_HEX = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
      "606162636465666768696a6b6c6d6e6f"};

  private static MerkleTree eightLeaves() {
    MerkleTree tree = new MerkleTree();
    for (String hex : LEAVES_HEX) {
      tree.appendLeafHash(Rfc6962.leafHash(HexFormat.of().parseHex(hex)));
    }
    return tree;
  }

  private static List<Path> vectors(String kind) throws IOException, URISyntaxException {
    Path root = Path.of(MerkleVectorsTest.class.getResource("/rfc6962-merkle/" + kind).toURI());
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  private static byte[] b64(JsonNode node) {
    return node == null || node.isNull() ? null : Base64.getDecoder().decode(node.asText());
  }

  private static List<byte[]> proof(JsonNode node) {
    List<byte[]> proof = new ArrayList<>();
    if (node != null && !node.isNull()) {
      node.forEach(n -> proof.add(Base64.getDecoder().decode(n.asText())));
    }
    return proof;
  }

  @Test
  void theTreeHasTheReadmesRoots() {
    assertThat(HexFormat.of().formatHex(eightLeaves().root(8)))
        .isEqualTo("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    assertThat(new MerkleTree().root(0)).isEqualTo(Rfc6962.emptyRoot());
  }

  @TestFactory
  Stream<DynamicTest> inclusionVectors() throws Exception {
    List<Path> files = vectors("inclusion");
    assertThat(files).hasSizeGreaterThan(20);
    MerkleTree tree = eightLeaves();
    return files.stream().map(file -> DynamicTest.dynamicTest(file.getParent().getFileName() + "/" + file.getFileName(), () -> {
      JsonNode v = JSON.readTree(file.toFile());
      long index = v.get("leafIdx").asLong();
      long size = v.get("treeSize").asLong();
      byte[] leaf = b64(v.get("leafHash"));
      byte[] root = b64(v.get("root"));
      List<byte[]> proof = proof(v.get("proof"));
      if (v.get("wantErr").asBoolean()) {
        assertThatThrownBy(() -> MerkleProofs.verifyInclusion(index, size, leaf, proof, root))
            .as(v.get("desc").asText()).isInstanceOf(ProofException.class);
        return;
      }
      assertThatCode(() -> MerkleProofs.verifyInclusion(index, size, leaf, proof, root))
          .as(v.get("desc").asText()).doesNotThrowAnyException();
      if (size <= tree.size() && java.util.Arrays.equals(tree.root(size), root)) {
        assertThat(tree.leafHash(index)).isEqualTo(leaf);
        assertThat(tree.inclusionProof(index, size)).containsExactlyElementsOf(proof);
      }
    }));
  }

  @TestFactory
  Stream<DynamicTest> consistencyVectors() throws Exception {
    List<Path> files = vectors("consistency");
    assertThat(files).hasSizeGreaterThan(20);
    MerkleTree tree = eightLeaves();
    return files.stream().map(file -> DynamicTest.dynamicTest(file.getParent().getFileName() + "/" + file.getFileName(), () -> {
      JsonNode v = JSON.readTree(file.toFile());
      long size1 = v.get("size1").asLong();
      long size2 = v.get("size2").asLong();
      byte[] root1 = b64(v.get("root1"));
      byte[] root2 = b64(v.get("root2"));
      List<byte[]> proof = proof(v.get("proof"));
      if (v.get("wantErr").asBoolean()) {
        assertThatThrownBy(() -> MerkleProofs.verifyConsistency(size1, size2, root1, root2, proof))
            .as(v.get("desc").asText()).isInstanceOf(ProofException.class);
        return;
      }
      assertThatCode(() -> MerkleProofs.verifyConsistency(size1, size2, root1, root2, proof))
          .as(v.get("desc").asText()).doesNotThrowAnyException();
      if (size2 <= tree.size() && java.util.Arrays.equals(tree.root(size2), root2)
          && java.util.Arrays.equals(tree.root(size1), root1)) {
        assertThat(tree.consistencyProof(size1, size2)).containsExactlyElementsOf(proof);
      }
    }));
  }
}
