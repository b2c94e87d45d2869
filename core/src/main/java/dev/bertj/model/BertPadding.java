package dev.bertj.model;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;

/**
 * Padding-free execution ("unpadding", as flash-attn's {@code bert_padding.py}, MosaicBERT and TEI):
 * a right-padded batch's real tokens are packed into {@code [T, H]} rows, T = the number of real
 * tokens, with {@code offsets} ({@code cu_seqlens}) saying where each sequence starts. Every Linear,
 * LayerNorm and activation is row-wise, so it runs on the T rows unchanged; attention runs per sequence
 * on its true length ({@link Backend#attentionPacked}). The padded rows, which a padded pass computes
 * only for the mask to ignore them, are never computed.
 * <pre>
 * unpad_input: packed[offsets[b] + s] = x[b, s]   for s < len[b]
 * pad_input:   out[b, s] = packed[offsets[b] + s] for s < len[b], 0 beyond
 * </pre>
 */
final class BertPadding {
    /**
     * Whether training packs padded batches (inference always does): {@code -Dbertj.unpadTraining=false}
     * trains them padded, for comparison; tests switch it to check the two agree.
     */
    static volatile boolean enabled = !"false".equals(System.getProperty("bertj.unpadTraining"));

    private BertPadding() { }

    /**
     * The packed rows' {@code offsets} ([B + 1]) when the batch has padding that can be dropped: every row's
     * mask is ones then zeros (right padding) with at least one real token. Null otherwise (no mask, no
     * padding, left padding, holes, an empty row), and the caller runs the padded pass as HF does.
     */
    static int[] offsets(int[] mask, int batch, int seq) {
        if (mask == null) return null;
        int[] offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++) {
            int len = 0, o = b * seq;
            while (len < seq && mask[o + len] != 0) len++;
            for (int s = len; s < seq; s++) if (mask[o + s] != 0) return null; // not right padding
            if (len == 0) return null;
            offsets[b + 1] = offsets[b] + len;
        }
        return offsets[batch] == batch * seq ? null : offsets;
    }

    /** The rows a pass over this batch runs on: T real tokens when packed ({@code offsets} not null), else B*S. */
    static int rows(int[] offsets, int batch, int seq) {
        return offsets == null ? batch * seq : offsets[batch];
    }

    /** unpad_input: the real rows of {@code padded} ([B*S, width]) into {@code packed} ([T, width]). */
    static void unpad(Backend be, Buf padded, int[] offsets, int seq, int width, Buf packed) {
        be.repackRows(offsets, seq, width, padded, packed, false);
    }

    /** pad_input: {@code packed} ([T, width]) back to {@code padded} ([B*S, width]), zeros at the padding. */
    static void pad(Backend be, Buf packed, int[] offsets, int seq, int width, Buf padded) {
        be.zero(padded, (offsets.length - 1) * seq * width);
        be.repackRows(offsets, seq, width, packed, padded, true);
    }
}
