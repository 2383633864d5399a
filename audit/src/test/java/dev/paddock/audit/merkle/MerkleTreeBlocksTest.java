package dev.paddock.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A tree that keeps only subtrees of 2^k leaves and up answers exactly what the tree that keeps
 * everything answers, reading back only the blocks a proof needs and nothing for the current root.
 */
class MerkleTreeBlocksTest {
  private static byte[] leaf(int n) {
    return Rfc6962.leafHash(("record " + n).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void everyRootAndProofEqualsTheFullTreesAtEverySize() {
    List<byte[]> leaves = new ArrayList<>();
    AtomicInteger reads = new AtomicInteger();
    MerkleTree blocks = new MerkleTree(3, (from, count) -> {
      reads.incrementAndGet();
      return leaves.subList((int) from, (int) from + count);
    });
    MerkleTree full = new MerkleTree();
    for (int n = 0; n < 70; n++) {
      leaves.add(leaf(n));
      blocks.appendLeafHash(leaf(n));
      full.appendLeafHash(leaf(n));
      // Signing a checkpoint of the current size never reads anything back.
      int before = reads.get();
      assertThat(blocks.root(n + 1)).isEqualTo(full.root(n + 1));
      assertThat(reads.get()).isEqualTo(before);
    }
    for (long n = 1; n <= 70; n++) {
      for (long i = 0; i < n; i++) {
        assertThat(blocks.leafHash(i)).isEqualTo(full.leafHash(i));
        assertThat(blocks.inclusionProof(i, n)).containsExactlyElementsOf(full.inclusionProof(i, n));
      }
      for (long m = 1; m <= n; m++) {
        assertThat(blocks.root(m)).isEqualTo(full.root(m));
        assertThat(blocks.consistencyProof(m, n)).containsExactlyElementsOf(full.consistencyProof(m, n));
      }
    }
  }

  @Test
  void onlyCompleteBlocksAreReadBackAndOnceEach() throws Exception {
    List<byte[]> leaves = new ArrayList<>();
    AtomicInteger reads = new AtomicInteger();
    MerkleTree tree = new MerkleTree(2, (from, count) -> {
      reads.incrementAndGet();
      return leaves.subList((int) from, (int) from + count);
    });
    for (int n = 0; n < 4 * 200; n++) {
      leaves.add(leaf(n));
      tree.appendLeafHash(leaf(n));
    }
    tree.appendLeafHash(leaf(800));
    leaves.add(leaf(800));
    long size = tree.size();
    // The incomplete last block is in memory; a complete one is read back once, then cached.
    MerkleProofs.verifyInclusion(size - 1, size, tree.leafHash(size - 1), tree.inclusionProof(size - 1, size), tree.root(size));
    assertThat(reads.get()).isZero();
    MerkleProofs.verifyInclusion(1, size, tree.leafHash(1), tree.inclusionProof(1, size), tree.root(size));
    assertThat(reads.get()).isEqualTo(1);
    tree.inclusionProof(2, size);
    assertThat(reads.get()).isEqualTo(1);
  }
}
