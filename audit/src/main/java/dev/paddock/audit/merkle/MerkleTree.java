package dev.paddock.audit.merkle;

import java.util.ArrayList;
import java.util.List;

/**
 * An append-only RFC 6962 Merkle tree that answers roots, inclusion proofs and consistency proofs
 * for any of its past sizes.
 *
 * <p>It keeps the hash of every complete, aligned subtree of at least {@code 2^keptFrom} leaves
 * (level {@code k} holds the subtrees of {@code 2^k} leaves), and the leaf hashes of the last,
 * incomplete block of {@code 2^keptFrom} leaves. Anything smaller inside a complete block is
 * recomputed from that block's leaf hashes, which the {@link LeafSource} reads back (the audit log
 * re-reads its segments), with the last few blocks cached. So memory is about
 * {@code 64 / 2^keptFrom} bytes a leaf (a quarter byte at the log's level 8: a billion records in
 * 256 MiB), an append costs amortised two hashes, a root of the current size never reads anything,
 * and a proof reads at most a couple of blocks. {@code keptFrom} 0 keeps every hash in memory (64
 * bytes a leaf) and needs no source. Not thread-safe; the caller serialises appends and reads.
 */
public final class MerkleTree {
  /** Where the leaf hashes of a complete block come from when they are needed again. */
  @FunctionalInterface
  public interface LeafSource {
    /** The leaf hashes of leaves {@code from} to {@code from + count - 1}, in order. */
    List<byte[]> leafHashes(long from, int count);
  }

  private static final int CACHED_BLOCKS = 64;

  private final int keptFrom;
  private final long blockLeaves;
  private final LeafSource source;
  private final List<HashLevel> levels = new ArrayList<>();
  /**
   * The incomplete last block's complete subtrees, level by level (level j: its subtrees of 2^j
   * leaves back to back), built as leaves arrive so no append hashes more than its share.
   */
  private final byte[][] partial;
  /** Blocks read back lately, each its leaf hashes back to back. */
  private final java.util.LinkedHashMap<Long, byte[]> blocks = new java.util.LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<Long, byte[]> eldest) {
      return size() > CACHED_BLOCKS;
    }
  };
  private long size;

  /** A tree that keeps every hash in memory (64 bytes a leaf). */
  public MerkleTree() {
    this(0, null);
  }

  /**
   * A tree that keeps the subtrees of {@code 2^keptFrom} leaves and up in memory and reads smaller
   * ones' leaves back from {@code source}.
   */
  public MerkleTree(int keptFrom, LeafSource source) {
    if (keptFrom < 0 || keptFrom > 20 || (keptFrom > 0 && source == null)) {
      throw new IllegalArgumentException("keptFrom must be 0..20, with a leaf source when above 0");
    }
    this.keptFrom = keptFrom;
    this.blockLeaves = 1L << keptFrom;
    this.source = source;
    this.partial = new byte[keptFrom][];
    for (int j = 0; j < keptFrom; j++) {
      partial[j] = new byte[(int) (blockLeaves >> j) * Rfc6962.HASH_SIZE];
    }
  }

  /** Appends a leaf by its hash ({@link Rfc6962#leafHash}); returns its index. */
  public long appendLeafHash(byte[] leafHash) {
    if (leafHash.length != Rfc6962.HASH_SIZE) {
      throw new IllegalArgumentException("a leaf hash is " + Rfc6962.HASH_SIZE + " bytes, got " + leafHash.length);
    }
    long index = size;
    byte[] hash = leafHash;
    int from = 0;
    if (keptFrom > 0) {
      int pos = (int) (index & (blockLeaves - 1));
      for (int j = 0; j < keptFrom; j++, pos >>= 1) {
        System.arraycopy(hash, 0, partial[j], pos * Rfc6962.HASH_SIZE, Rfc6962.HASH_SIZE);
        if ((pos & 1) == 0) { // a left child: its parent waits for its sibling
          size++;
          return index;
        }
        hash = Rfc6962.nodeHash(partial[j], (pos - 1) * Rfc6962.HASH_SIZE);
      }
      // The block is complete: its root goes up the kept levels; the levels below are reused.
      from = keptFrom;
    }
    for (int level = from; ; level++) {
      while (levels.size() <= level) {
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
    return subtree(index, index + 1).clone();
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
      int level = Long.numberOfTrailingZeros(n);
      if (level >= keptFrom) {
        return levels.get(level).get(start / n);
      }
      // Below the kept levels: inside one block, from its leaves.
      long block = start >> keptFrom;
      long blockStart = block << keptFrom;
      if (blockStart + blockLeaves > size) {
        int at = (int) ((start - blockStart) >> level) * Rfc6962.HASH_SIZE;
        return java.util.Arrays.copyOfRange(partial[level], at, at + Rfc6962.HASH_SIZE);
      }
      return rootOf(blockLeaves(block), (int) (start - blockStart), (int) n);
    }
    long k = largestPowerOfTwoBelow(n);
    return Rfc6962.nodeHash(subtree(start, start + k), subtree(start + k, end));
  }

  /** The leaf hashes of complete block {@code block}, back to back, cached or read back. */
  private byte[] blockLeaves(long block) {
    byte[] leaves = blocks.get(block);
    if (leaves == null) {
      List<byte[]> read = source.leafHashes(block << keptFrom, (int) blockLeaves);
      if (read.size() != blockLeaves) {
        throw new IllegalStateException("the leaf source gave " + read.size() + " leaves of block " + block + ", not "
            + blockLeaves);
      }
      leaves = new byte[read.size() * Rfc6962.HASH_SIZE];
      for (int i = 0; i < read.size(); i++) {
        System.arraycopy(read.get(i), 0, leaves, i * Rfc6962.HASH_SIZE, Rfc6962.HASH_SIZE);
      }
      blocks.put(block, leaves);
    }
    return leaves;
  }

  /** MTH of {@code count} (a power of two) leaf hashes stored back to back in {@code leaves}, from leaf {@code from}. */
  private static byte[] rootOf(byte[] leaves, int from, int count) {
    if (count == 1) {
      return java.util.Arrays.copyOfRange(leaves, from * Rfc6962.HASH_SIZE, (from + 1) * Rfc6962.HASH_SIZE);
    }
    if (count == 2) {
      return Rfc6962.nodeHash(leaves, from * Rfc6962.HASH_SIZE);
    }
    int half = count / 2;
    return Rfc6962.nodeHash(rootOf(leaves, from, half), rootOf(leaves, from + half, half));
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
