package dev.paddock.audit.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * An append-only RFC 6962 Merkle tree that answers roots, inclusion proofs and consistency proofs
 * for any of its past sizes.
 *
 * <p>It keeps the hash of every complete, aligned subtree (level 0 holds the leaf hashes, level
 * {@code k} the subtrees of {@code 2^k} leaves), about two hashes per leaf, so an append costs
 * amortised two hashes and any root or proof is O(log n) lookups. Held in memory: 64 bytes a
 * leaf. Not thread-safe; the caller serialises appends and reads.
 */
public final class MerkleTree {
  private final List<HashLevel> levels = new ArrayList<>();
  private long size;

  /** Appends a leaf by its hash ({@link Rfc6962#leafHash}); returns its index. */
  public long appendLeafHash(byte[] leafHash) {
    if (leafHash.length != Rfc6962.HASH_SIZE) {
      throw new IllegalArgumentException("a leaf hash is " + Rfc6962.HASH_SIZE + " bytes, got " + leafHash.length);
    }
    long index = size;
    byte[] hash = leafHash;
    for (int level = 0; ; level++) {
      if (levels.size() == level) {
        levels.add(new HashLevel());
      }
      HashLevel hashes = levels.get(level);
      hashes.add(hash);
      // A node whose index is odd completes its parent.
      if ((hashes.size() & 1) == 1) {
        break;
      }
      hash = Rfc6962.nodeHash(hashes.get(hashes.size() - 2), hash);
    }
    size++;
    return index;
  }

  /** How many leaves the tree holds. */
  public long size() {
    return size;
  }

  /** The hash of leaf {@code index}. */
  public byte[] leafHash(long index) {
    checkIndex(index, size);
    return levels.get(0).get(index).clone();
  }

  /** The root of the tree's first {@code treeSize} leaves (the empty root for 0). */
  public byte[] root(long treeSize) {
    checkSize(treeSize);
    return treeSize == 0 ? Rfc6962.emptyRoot() : subtree(0, treeSize);
  }

  /** The RFC 6962 audit path of leaf {@code leafIndex} in the tree of the first {@code treeSize} leaves. */
  public List<byte[]> inclusionProof(long leafIndex, long treeSize) {
    checkSize(treeSize);
    checkIndex(leafIndex, treeSize);
    List<byte[]> proof = new ArrayList<>();
    path(leafIndex, 0, treeSize, proof);
    return proof;
  }

  /** The RFC 6962 consistency proof from the tree of {@code size1} leaves to that of {@code size2}. */
  public List<byte[]> consistencyProof(long size1, long size2) {
    checkSize(size2);
    if (size1 < 0 || size1 > size2) {
      throw new IllegalArgumentException("sizes must be 0 <= size1 <= size2, got " + size1 + " and " + size2);
    }
    List<byte[]> proof = new ArrayList<>();
    if (size1 > 0 && size1 < size2) {
      subproof(size1, 0, size2, true, proof);
    }
    return proof;
  }

  // PATH(m, D[start:end]) of RFC 6962 section 2.1.1, nodes appended bottom-up.
  private void path(long m, long start, long end, List<byte[]> proof) {
    long n = end - start;
    if (n == 1) {
      return;
    }
    long k = largestPowerOfTwoBelow(n);
    if (m < k) {
      path(m, start, start + k, proof);
      proof.add(subtree(start + k, end));
    } else {
      path(m - k, start + k, end, proof);
      proof.add(subtree(start, start + k));
    }
  }

  // SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2.
  private void subproof(long m, long start, long end, boolean wholeOldTree, List<byte[]> proof) {
    long n = end - start;
    if (m == n) {
      if (!wholeOldTree) {
        proof.add(subtree(start, end));
      }
      return;
    }
    long k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      subproof(m, start, start + k, wholeOldTree, proof);
      proof.add(subtree(start + k, end));
    } else {
      subproof(m - k, start + k, end, false, proof);
      proof.add(subtree(start, start + k));
    }
  }

  // MTH(D[start:end]); every range the RFC's recursion asks for starts aligned to its left part.
  private byte[] subtree(long start, long end) {
    long n = end - start;
    if ((n & (n - 1)) == 0 && start % n == 0) {
      return levels.get(Long.numberOfTrailingZeros(n)).get(start / n);
    }
    long k = largestPowerOfTwoBelow(n);
    return Rfc6962.nodeHash(subtree(start, start + k), subtree(start + k, end));
  }

  /** The largest power of two strictly below {@code n} (n >= 2). */
  private static long largestPowerOfTwoBelow(long n) {
    return Long.highestOneBit(n - 1);
  }

  private void checkSize(long treeSize) {
    if (treeSize < 0 || treeSize > size) {
      throw new IllegalArgumentException("tree size " + treeSize + " is not in 0.." + size);
    }
  }

  private static void checkIndex(long index, long treeSize) {
    if (index < 0 || index >= treeSize) {
      throw new IllegalArgumentException("leaf index " + index + " is not in 0.." + (treeSize - 1));
    }
  }

  /** One level's hashes, in chunks so that no single array grows past a few MiB. */
  private static final class HashLevel {
    private static final int CHUNK_HASHES = 1 << 16;
    private final List<byte[]> chunks = new ArrayList<>();
    private long size;

    void add(byte[] hash) {
      int offset = (int) (size % CHUNK_HASHES);
      if (offset == 0) {
        // The first chunk starts small and doubles (upper levels stay tiny); later ones are whole.
        chunks.add(new byte[(chunks.isEmpty() ? 16 : CHUNK_HASHES) * Rfc6962.HASH_SIZE]);
      } else if (offset * Rfc6962.HASH_SIZE == chunks.get(chunks.size() - 1).length) {
        int last = chunks.size() - 1;
        chunks.set(last, java.util.Arrays.copyOf(chunks.get(last), 2 * chunks.get(last).length));
      }
      System.arraycopy(hash, 0, chunks.get(chunks.size() - 1), offset * Rfc6962.HASH_SIZE, Rfc6962.HASH_SIZE);
      size++;
    }

    byte[] get(long index) {
      byte[] chunk = chunks.get((int) (index / CHUNK_HASHES));
      int offset = (int) (index % CHUNK_HASHES) * Rfc6962.HASH_SIZE;
      return java.util.Arrays.copyOfRange(chunk, offset, offset + Rfc6962.HASH_SIZE);
    }

    long size() {
      return size;
    }
  }
}
