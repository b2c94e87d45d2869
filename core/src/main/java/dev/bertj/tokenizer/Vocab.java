package dev.bertj.tokenizer;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A WordPiece vocabulary: token strings and their ids.
 *
 * <p>Lookups take a slice of a {@code char[]} and allocate nothing. Tokens that start with the
 * continuing-subword prefix ({@code ##}) live in a second table keyed without the prefix, so
 * WordPiece can look a word-internal piece up without building {@code "##" + piece}.
 */
public final class Vocab {
    /** Multiplier of the polynomial hash; {@link WordPiece} rolls the same hash over a word. */
    static final int HASH_BASE = 0x01000193;

    private final String[] tokens;
    private final String continuingPrefix;
    private final Map<String, Integer> byToken;
    private final Table heads;   // tokens without the prefix
    private final Table tails;   // tokens with the prefix, keyed by what follows it
    private final int maxTokenChars;
    private final PieceTrie trie;

    /**
     * @param tokens token strings indexed by id; no duplicates, no nulls
     * @param continuingPrefix the prefix that marks a word-internal piece, usually {@code ##}
     * @param source where the tokens came from, for error messages
     */
    Vocab(String[] tokens, String continuingPrefix, String source) {
        this.tokens = tokens;
        this.continuingPrefix = continuingPrefix;
        this.byToken = new HashMap<>(tokens.length * 2);
        int maxChars = 0;
        int nHeads = 0;
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            if (t == null) {
                throw new TokenizerException(source + ": no token has id " + id + " (ids must be 0.." + (tokens.length - 1) + ")");
            }
            Integer previous = byToken.put(t, id);
            if (previous != null) {
                throw new TokenizerException(source + ": token '" + t + "' appears twice, with ids " + previous + " and " + id
                        + " (line " + (previous + 1) + " and " + (id + 1) + " of a vocab.txt)");
            }
            if (!t.startsWith(continuingPrefix) || continuingPrefix.isEmpty()) nHeads++;
        }
        long chars = 0;
        for (String t : tokens) chars += t.length();
        trie = new PieceTrie(chars);
        heads = new Table(nHeads);
        tails = new Table(tokens.length - nHeads);
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            boolean tail = !continuingPrefix.isEmpty() && t.startsWith(continuingPrefix);
            String key = tail ? t.substring(continuingPrefix.length()) : t;
            (tail ? tails : heads).put(key, id);
            trie.add(key, tail ? PieceTrie.TAILS : PieceTrie.HEADS, id);
            maxChars = Math.max(maxChars, key.length());
        }
        this.maxTokenChars = maxChars;
    }

    /** Number of tokens, HF's {@code vocab_size}. */
    public int size() {
        return tokens.length;
    }

    /** The token with this id; throws if the id is out of range. */
    public String token(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (tokens.length - 1) + ")");
        }
        return tokens[id];
    }

    /** The id of this token, or -1 when it is not in the vocabulary. */
    public int id(String token) {
        Integer id = byToken.get(token);
        return id == null ? -1 : id;
    }

    /** The token strings in id order (an unmodifiable view). */
    public List<String> tokens() {
        return Collections.unmodifiableList(Arrays.asList(tokens));
    }

    /** The continuing-subword prefix, usually {@code ##}. */
    public String continuingPrefix() {
        return continuingPrefix;
    }

    /** Longest key in either table, in chars: no piece longer than this can match. */
    int maxTokenChars() {
        return maxTokenChars;
    }

    /**
     * Looks up {@code buf[from, to)} whose polynomial hash is {@code hash}; {@code tail} selects the
     * table of word-internal pieces. Returns the id or -1.
     */
    int find(char[] buf, int from, int to, int hash, boolean tail) {
        return (tail ? tails : heads).find(buf, from, to, hash);
    }

    /** The trie for longest-match search. */
    PieceTrie trie() {
        return trie;
    }

    static int hash(CharSequence s) {
        int h = 0;
        for (int i = 0; i < s.length(); i++) h = h * HASH_BASE + s.charAt(i);
        return h;
    }

    /**
     * Open addressing over a flat char pool: one probe sequence, no objects per lookup. A slot's id,
     * hash, pool offset and length sit side by side in {@code slots}, so a probe touches one cache line
     * (the table of a 30k vocabulary is ~1 MB, beyond L2) rather than four arrays'.
     */
    private static final class Table {
        private static final int ID = 0, HASH = 1, START = 2, LEN = 3, STRIDE = 4;
        private final int[] slots;      // per slot: id + 1 (0 = empty), hash, offset into pool, length
        private final int mask;
        private char[] pool = new char[1024];
        private int poolSize;

        Table(int n) {
            int cap = Integer.highestOneBit(Math.max(4, n * 2 + 1)) << 1;
            slots = new int[cap * STRIDE];
            mask = cap - 1;
        }

        void put(String key, int id) {
            int h = hash(key);
            int i = mix(h) & mask;
            while (slots[i * STRIDE + ID] != 0) i = (i + 1) & mask;
            if (poolSize + key.length() > pool.length) {
                pool = Arrays.copyOf(pool, Math.max(pool.length * 2, poolSize + key.length()));
            }
            key.getChars(0, key.length(), pool, poolSize);
            int o = i * STRIDE;
            slots[o + ID] = id + 1;
            slots[o + HASH] = h;
            slots[o + START] = poolSize;
            slots[o + LEN] = key.length();
            poolSize += key.length();
        }

        int find(char[] buf, int from, int to, int h) {
            int len = to - from;
            int i = mix(h) & mask;
            int id;
            while ((id = slots[i * STRIDE + ID]) != 0) {
                int o = i * STRIDE;
                if (slots[o + HASH] == h && slots[o + LEN] == len && Arrays.equals(pool, slots[o + START], slots[o + START] + len, buf, from, to)) {
                    return id - 1;
                }
                i = (i + 1) & mask;
            }
            return -1;
        }

        private static int mix(int h) {
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            h ^= h >>> 13;
            return h;
        }
    }
}
