package dev.bertj.api;

import dev.bertj.tokenizer.Batch;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Token sequences run in batches of similar length: sorted longest first, cut into batches of at
 * most {@code batchSize} sequences and {@code maxBatchTokens} padded tokens, each padded only to its
 * own longest (dynamic padding). Padding costs compute in every layer, so a batch of texts of mixed
 * lengths costs what its longest costs times its size; sorted, it costs little more than its tokens.
 */
final class LengthSortedBatches {
    /** What is done with one batch; {@code rows[i]} is the index, in the caller's list, of the batch's row i. */
    @FunctionalInterface
    interface Body {
        void run(Batch batch, int[] rows);
    }

    private LengthSortedBatches() { }

    /**
     * Runs {@code body} on every batch.
     *
     * @param ids each sequence's token ids, special tokens included
     * @param types each sequence's token type ids, or null for all zeros
     */
    static void run(List<int[]> ids, List<int[]> types, int padId, int batchSize, int maxBatchTokens, Body body) {
        Integer[] order = IntStream.range(0, ids.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -ids.get(i).length).thenComparingInt(i -> i));
        for (int from = 0; from < order.length; ) {
            int seq = Math.max(1, ids.get(order[from]).length); // the longest of this batch: sorted, it is the first
            int rows = Math.max(1, Math.min(batchSize, Math.min(order.length - from, maxBatchTokens / seq)));
            int[] at = new int[rows];
            int[] inputIds = new int[rows * seq], typeIds = new int[rows * seq], mask = new int[rows * seq];
            if (padId != 0) Arrays.fill(inputIds, padId);
            for (int r = 0; r < rows; r++) {
                int i = order[from + r];
                at[r] = i;
                int[] s = ids.get(i);
                System.arraycopy(s, 0, inputIds, r * seq, s.length);
                if (types != null && types.get(i) != null) System.arraycopy(types.get(i), 0, typeIds, r * seq, s.length);
                Arrays.fill(mask, r * seq, r * seq + s.length, 1);
            }
            body.run(new Batch(rows, seq, inputIds, typeIds, mask, null), at);
            from += rows;
        }
    }
}
