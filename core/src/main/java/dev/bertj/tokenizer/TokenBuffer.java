package dev.bertj.tokenizer;

import java.util.Arrays;

/**
 * Growable parallel arrays of raw tokens (before special tokens, truncation and padding).
 * One per thread and reused, so steady-state tokenization allocates only the final Encoding.
 */
final class TokenBuffer {
    int[] ids = new int[256];
    int[] words = new int[256];
    int[] starts = new int[256];
    int[] ends = new int[256];
    int size;

    void clear() {
        size = 0;
    }

    void add(int id, int word, int start, int end) {
        if (size == ids.length) grow();
        ids[size] = id;
        words[size] = word;
        starts[size] = start;
        ends[size] = end;
        size++;
    }

    private void grow() {
        int n = ids.length * 2;
        ids = Arrays.copyOf(ids, n);
        words = Arrays.copyOf(words, n);
        starts = Arrays.copyOf(starts, n);
        ends = Arrays.copyOf(ends, n);
    }
}
