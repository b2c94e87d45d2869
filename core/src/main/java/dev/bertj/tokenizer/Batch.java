package dev.bertj.tokenizer;

import java.util.Arrays;

/**
 * A padded batch, row-major {@code [batchSize, seqLen]}, like the tensors HF's collator returns.
 *
 * @param batchSize number of rows
 * @param seqLen padded length of every row
 * @param inputIds token ids
 * @param tokenTypeIds segment ids
 * @param attentionMask 1 for real tokens, 0 for padding
 * @param labels one label per row, or {@code null} when the examples had none
 */
public record Batch(int batchSize, int seqLen, int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int[] labels) {

    /** Row {@code i} of input_ids. */
    public int[] inputIds(int i) {
        return row(inputIds, i);
    }

    /** Row {@code i} of token_type_ids. */
    public int[] tokenTypeIds(int i) {
        return row(tokenTypeIds, i);
    }

    /** Row {@code i} of attention_mask. */
    public int[] attentionMask(int i) {
        return row(attentionMask, i);
    }

    private int[] row(int[] a, int i) {
        if (i < 0 || i >= batchSize) throw new IndexOutOfBoundsException("row " + i + " of a batch of " + batchSize);
        return Arrays.copyOfRange(a, i * seqLen, (i + 1) * seqLen);
    }
}
