package dev.paddock.audit.merkle;

import java.security.MessageDigest;
import java.util.List;

/**
 * Checks RFC 6962 inclusion and consistency proofs, by the algorithms of RFC 9162 sections 2.1.3.2
 * and 2.1.4.2. Needs nothing but the proof, so an auditor can run it against any log. Every hash
 * must be exactly {@link Rfc6962#HASH_SIZE} bytes; a proof with a node too many or too few fails.
 */
public final class MerkleProofs {
  private MerkleProofs() {}

  /**
   * Checks that the leaf with hash {@code leafHash} is leaf {@code leafIndex} of the tree of
   * {@code treeSize} leaves whose root is {@code root}.
   *
   * @throws ProofException when it is not, or the inputs are malformed
   */
  public static void verifyInclusion(long leafIndex, long treeSize, byte[] leafHash, List<byte[]> proof, byte[] root)
      throws ProofException {
    if (leafIndex < 0 || treeSize < 0) {
      throw new ProofException("negative leaf index or tree size");
    }
    if (leafIndex >= treeSize) {
      throw new ProofException("leaf index " + leafIndex + " is not below the tree size " + treeSize);
    }
    requireHash("leaf hash", leafHash);
    requireHash("root", root);
    byte[] computed = rootFromInclusion(leafIndex, treeSize, leafHash, proof);
    if (!MessageDigest.isEqual(computed, root)) {
      throw new ProofException("the proof leads to another root");
    }
  }

  /**
   * The root that {@code proof} leads to from leaf {@code leafIndex} of a tree of {@code treeSize}
   * leaves; throws when the proof has the wrong length or a malformed node.
   */
  static byte[] rootFromInclusion(long leafIndex, long treeSize, byte[] leafHash, List<byte[]> proof)
      throws ProofException {
    long fn = leafIndex;
    long sn = treeSize - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      requireHash("proof node", p);
      if (sn == 0) {
        throw new ProofException("the proof has more nodes than a tree of " + treeSize + " needs");
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = Rfc6962.nodeHash(p, r);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        r = Rfc6962.nodeHash(r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    if (sn != 0) {
      throw new ProofException("the proof has fewer nodes than a tree of " + treeSize + " needs");
    }
    return r;
  }

  /**
   * Checks that the tree of {@code size1} leaves with root {@code root1} is a prefix of the tree of
   * {@code size2} leaves with root {@code root2}: nothing was changed, dropped or reordered.
   *
   * @throws ProofException when it is not, or the inputs are malformed
   */
  public static void verifyConsistency(long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof)
      throws ProofException {
    if (size1 < 0 || size2 < 0) {
      throw new ProofException("negative tree size");
    }
    if (size2 < size1) {
      throw new ProofException("tree size " + size2 + " is smaller than " + size1);
    }
    if (size1 == 0) {
      // Every tree extends the empty one; a "proof" of it proves nothing, so it is refused as a
      // malformed request, as transparency-dev/merkle does.
      throw new ProofException("a consistency proof starts from a non-empty tree");
    }
    if (size1 == size2) {
      if (!proof.isEmpty()) {
        throw new ProofException("trees of equal size need an empty proof");
      }
      if (root1 == null || root2 == null || !MessageDigest.isEqual(root1, root2)) {
        throw new ProofException("trees of equal size with different roots");
      }
      return;
    }
    if (proof.isEmpty()) {
      throw new ProofException("the proof is empty");
    }
    // Checked only here, as transparency-dev/merkle does: the trivial cases above compare roots as
    // given (a checkpoint's parser has already insisted on 32 bytes).
    requireHash("first root", root1);
    requireHash("second root", root2);
    for (byte[] p : proof) {
      requireHash("proof node", p);
    }
    int start = 0;
    byte[] fr;
    byte[] sr;
    // When size1 is a power of two, the old root is itself a node of the new tree and is not sent.
    boolean powerOfTwo = (size1 & (size1 - 1)) == 0;
    if (powerOfTwo) {
      fr = root1;
      sr = root1;
    } else {
      fr = proof.get(0);
      sr = proof.get(0);
      start = 1;
    }
    long fn = size1 - 1;
    long sn = size2 - 1;
    while ((fn & 1) == 1) {
      fn >>= 1;
      sn >>= 1;
    }
    for (int i = start; i < proof.size(); i++) {
      byte[] c = proof.get(i);
      if (sn == 0) {
        throw new ProofException("the proof has more nodes than needed");
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = Rfc6962.nodeHash(c, fr);
        sr = Rfc6962.nodeHash(c, sr);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        sr = Rfc6962.nodeHash(sr, c);
      }
      fn >>= 1;
      sn >>= 1;
    }
    if (sn != 0) {
      throw new ProofException("the proof has fewer nodes than needed");
    }
    if (!MessageDigest.isEqual(fr, root1)) {
      throw new ProofException("the proof does not lead to the first root");
    }
    if (!MessageDigest.isEqual(sr, root2)) {
      throw new ProofException("the proof does not lead to the second root");
    }
  }

  private static void requireHash(String what, byte[] hash) throws ProofException {
    if (hash == null || hash.length != Rfc6962.HASH_SIZE) {
      throw new ProofException(what + " is " + (hash == null ? "missing" : hash.length + " bytes") + ", not "
          + Rfc6962.HASH_SIZE);
    }
  }
}
