package dev.paddock.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tree against RFC 6962's recursive definition, and its proofs against the verifier. */
class MerkleTreeTest {
  private static byte[] leaf(long i) {
    return Rfc6962.leafHash(ByteBuffer.allocate(8).putLong(i).array());
  }

  /** MTH(D[start:end]) straight from RFC 6962 section 2.1. */
  private static byte[] naiveRoot(List<byte[]> leaves, int start, int end) {
    if (end - start == 1) {
      return leaves.get(start);
    }
    int k = Integer.highestOneBit(end - start - 1);
    return Rfc6962.nodeHash(naiveRoot(leaves, start, start + k), naiveRoot(leaves, start + k, end));
  }

  @Test
  void rootsMatchTheDefinitionAtEverySize() {
    MerkleTree tree = new MerkleTree();
    List<byte[]> leaves = new ArrayList<>();
    for (int n = 1; n <= 300; n++) {
      leaves.add(leaf(n));
      assertThat(tree.appendLeafHash(leaf(n))).isEqualTo(n - 1);
    }
    for (int n = 1; n <= 300; n++) {
      assertThat(tree.root(n)).as("root of %d", n).isEqualTo(naiveRoot(leaves, 0, n));
    }
  }

  @Test
  void everyInclusionAndConsistencyProofVerifies() throws Exception {
    MerkleTree tree = new MerkleTree();
    for (int n = 0; n < 70; n++) {
      tree.appendLeafHash(leaf(n));
    }
    for (long n = 1; n <= 70; n++) {
      for (long i = 0; i < n; i++) {
        MerkleProofs.verifyInclusion(i, n, tree.leafHash(i), tree.inclusionProof(i, n), tree.root(n));
      }
      for (long m = 1; m <= n; m++) {
        MerkleProofs.verifyConsistency(m, n, tree.root(m), tree.root(n), tree.consistencyProof(m, n));
      }
    }
  }

  @Test
  void aChangedLeafOrNodeOrRootIsCaught() {
    MerkleTree tree = new MerkleTree();
    for (int n = 0; n < 13; n++) {
      tree.appendLeafHash(leaf(n));
    }
    List<byte[]> proof = tree.inclusionProof(5, 13);
    byte[] bad = proof.get(1).clone();
    bad[0] ^= 1;
    List<byte[]> tampered = new ArrayList<>(proof);
    tampered.set(1, bad);
    assertThatThrownBy(() -> MerkleProofs.verifyInclusion(5, 13, tree.leafHash(5), tampered, tree.root(13)))
        .isInstanceOf(ProofException.class);
    assertThatThrownBy(() -> MerkleProofs.verifyInclusion(5, 13, tree.leafHash(6), proof, tree.root(13)))
        .isInstanceOf(ProofException.class);
    assertThatThrownBy(() -> MerkleProofs.verifyInclusion(5, 13, tree.leafHash(5), proof, tree.root(12)))
        .isInstanceOf(ProofException.class);
    assertThatThrownBy(() -> MerkleProofs.verifyInclusion(5, 13, tree.leafHash(5), proof.subList(0, 3), tree.root(13)))
        .hasMessageContaining("fewer nodes");
    List<byte[]> consistency = tree.consistencyProof(6, 13);
    assertThatCode(() -> MerkleProofs.verifyConsistency(6, 13, tree.root(6), tree.root(13), consistency))
        .doesNotThrowAnyException();
    // A log that rewrote leaf 3 after size 6 cannot prove its new tree extends the old one.
    MerkleTree rewritten = new MerkleTree();
    for (int n = 0; n < 13; n++) {
      rewritten.appendLeafHash(leaf(n == 3 ? 99 : n));
    }
    assertThatThrownBy(() -> MerkleProofs.verifyConsistency(6, 13, tree.root(6), rewritten.root(13),
        rewritten.consistencyProof(6, 13))).isInstanceOf(ProofException.class);
  }

  @Test
  void sizesOutsideTheTreeAreRefused() {
    MerkleTree tree = new MerkleTree();
    tree.appendLeafHash(leaf(0));
    assertThatThrownBy(() -> tree.root(2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tree.inclusionProof(1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tree.consistencyProof(2, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tree.appendLeafHash(new byte[31])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aMillionLeavesStayCheap() throws Exception {
    MerkleTree tree = new MerkleTree();
    for (int n = 0; n < 1 << 20; n++) {
      tree.appendLeafHash(leaf(n));
    }
    long n = tree.size();
    MerkleProofs.verifyInclusion(777_777, n, tree.leafHash(777_777), tree.inclusionProof(777_777, n), tree.root(n));
    MerkleProofs.verifyConsistency(999_999, n, tree.root(999_999), tree.root(n), tree.consistencyProof(999_999, n));
    assertThat(tree.inclusionProof(777_777, n)).hasSize(20);
  }
}
