package dev.bertj.tokenizer;

import java.util.Arrays;

/**
 * A char trie over the vocabulary for WordPiece's longest-match search: one walk from a start
 * position finds the longest piece in as many steps as the piece has chars, instead of one hash
 * lookup per candidate length (which costs dearly on long unknown strings such as base64 in mail).
 *
 * <p>Two roots: {@link #HEADS} for word-initial pieces, {@link #TAILS} for {@code ##} pieces keyed
 * without the prefix. Edges live in one open-addressing table keyed by (node, char), each key beside
 * its child so that a probe touches one cache line (the table outgrows L2).
 */
final class PieceTrie {
    static final int HEADS = 0, TAILS = 1;

    private long[] table;     // per slot: key (node << 16 | char) + 1 (0 = empty), then the child
    private int mask;
    private int edges;
    private int[] tokenId = new int[1024];   // per node: token id ending here, or -1
    private int nodes = 2;

    /** @param chars the total length of the keys to come: an upper bound on the edges, to size the table once */
    PieceTrie(long chars) {
        // Twice the edges, a power of two; the table still grows if a caller under-counts.
        int cap = (int) Math.min(1 << 29, Long.highestOneBit(Math.max(16, 2 * chars)) << 1);
        table = new long[2 * cap];
        mask = cap - 1;
        Arrays.fill(tokenId, -1);
    }

    void add(String key, int root, int id) {
        int node = root;
        for (int i = 0; i < key.length(); i++) {
            int next = child(node, key.charAt(i));
            if (next < 0) next = addChild(node, key.charAt(i));
            node = next;
        }
        tokenId[node] = id;
    }

    /** The child of {@code node} along {@code c}, or -1. */
    int child(int node, char c) {
        long k = (((long) node << 16) | c) + 1;
        int i = mix(k) & mask;
        long s;
        while ((s = table[2 * i]) != 0) {
            if (s == k) return (int) table[2 * i + 1];
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** The token id ending at {@code node}, or -1. */
    int tokenAt(int node) {
        return tokenId[node];
    }

    private int addChild(int node, char c) {
        if ((edges + 1) * 2 > mask + 1) rehash();
        int id = nodes++;
        if (id == tokenId.length) {
            int old = tokenId.length;
            tokenId = Arrays.copyOf(tokenId, old * 2);
            Arrays.fill(tokenId, old, tokenId.length, -1);
        }
        long k = (((long) node << 16) | c) + 1;
        int i = mix(k) & mask;
        while (table[2 * i] != 0) i = (i + 1) & mask;
        table[2 * i] = k;
        table[2 * i + 1] = id;
        edges++;
        return id;
    }

    private void rehash() {
        long[] old = table;
        table = new long[old.length * 2];
        mask = table.length / 2 - 1;
        for (int j = 0; j < old.length; j += 2) {
            if (old[j] == 0) continue;
            int i = mix(old[j]) & mask;
            while (table[2 * i] != 0) i = (i + 1) & mask;
            table[2 * i] = old[j];
            table[2 * i + 1] = old[j + 1];
        }
    }

    private static int mix(long k) {
        k *= 0x9E3779B97F4A7C15L;
        return (int) (k ^ (k >>> 32));
    }
}
