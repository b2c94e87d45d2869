package dev.bertj.backend;

import dev.bertj.tensor.Tensor;

import java.util.List;

/**
 * The arithmetic BERT's layers are written in, on {@link Buf}s. Shapes are row-major float32 as in
 * PyTorch (noted {@code [rows, H]}); a Linear weight is {@code [out, in]}. Each backward sits next to
 * its forward.
 */
public interface LayerOps {
    // ---- dense layers ----

    /** {@code y = act(x W^T + b)} on {@code rows} rows; {@code epilogue} null for none (GELU is fused into the GEMM's epilogue on the CPU). */
    void linear(Buf x, int rows, LinearWeights l, Buf y, Activation epilogue);

    /** {@code y = x [W_1; W_2; ...]^T + [b_1; b_2; ...]}: the parts' outputs side by side in each row (q|k|v from one GEMM). */
    void linear(Buf x, int rows, List<? extends LinearWeights> parts, Buf y);

    /**
     * Linear backward with {@code dy} a strided view (row r at {@code dyOff + r * ldy}):
     * {@code dx = dy W} (overwritten, or added with {@code accumulateDx}; skipped when null),
     * {@code dW += dy^T x}, {@code db += 1^T dy} (skipped when {@code db} is null).
     */
    void linearBackward(LinearWeights l, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Buf dW, Buf db);

    /** {@code x[0, n) = act(x)} in place. */
    void activation(Activation act, Buf x, int n);

    /** {@code d[i] *= act'(saved[i])}, {@code saved} being the input or the output as {@link Activation#derivativeFrom()} says. */
    void activationBackward(Activation act, Buf saved, Buf d, int n);

    // ---- normalization, dropout, element-wise ----

    /**
     * {@code y = LayerNorm(x + residual)} over rows of {@code ln}'s width ({@code residual} may be null,
     * {@code y} may be {@code x}); {@code xhat} ([rows, H]) and {@code rstd} ([rows]), when not null,
     * keep what backward needs.
     */
    void layerNorm(Buf x, Buf residual, int rows, NormWeights ln, Buf y, Buf xhat, Buf rstd);

    /** LayerNorm backward: {@code dz} (may be {@code dy}) gets d/d(x + residual); {@code dGamma}, {@code dBeta} accumulate. */
    void layerNormBackward(NormWeights ln, Buf xhat, Buf rstd, Buf dy, int rows, Buf dz, Buf dGamma, Buf dBeta);

    /** Inverted dropout on {@code x[0, n)} in place with {@link DropoutRng}'s masks for (seed, site); {@code keep} receives the mask. */
    void dropout(Buf x, int n, float p, long seed, long site, Mask keep);

    /** {@code d = d * keep / (1 - p)} in place. */
    void dropoutBackward(Buf d, int n, float p, Mask keep);

    /** {@code a[0, n) += b[0, n)}. */
    void add(Buf a, Buf b, int n);

    /** {@code x[0, n) *= s}. */
    void scale(Buf x, int n, float s);

    /** {@code x[0, n) /= d} (divided, not multiplied by 1/d, as PyTorch's {@code /=}). */
    void divide(Buf x, int n, float d);

    // ---- BERT-specific ----

    /**
     * {@code out[b,s] = word[ids[b,s]] + position[s] + type[types[b,s]]} ({@code out} [B*S, H]; ids
     * already checked; {@code types} may be null for all zeros).
     */
    void embeddings(int[] ids, int[] types, int batch, int seq, Tensor word, Tensor position, Tensor type, Buf out);

    /** Scatter-adds {@code dOut}'s rows into the three tables' gradients. */
    void embeddingsBackward(int[] ids, int[] types, int batch, int seq, int hidden, Buf dOut, Buf dWord, Buf dPosition, Buf dType);

    /** Attention's sizes: batch rows, sequence length, heads, head size. */
    record AttentionShape(int batch, int seq, int heads, int headDim) {
        /** Hidden size, {@code heads * headDim}. */
        public int hidden() {
            return heads * headDim;
        }
    }

    /**
     * Scaled dot-product attention from {@code qkv} ({@code [B*S, 3H]}, q|k|v per row) into
     * {@code context} ({@code [B*S, H]}), with HF's padding mask ({@code mask} [B*S] of 0/1, or null).
     * {@code probs}, when not null, receives the probabilities {@code [B, heads, S, S]} before
     * dropout; dropout with probability {@code p} (0 for none) uses site {@code site}'s masks, kept in
     * {@code keep}.
     */
    void attention(AttentionShape s, Buf qkv, int[] mask, Buf context, Buf probs, float p, long seed, long site, Mask keep);

    /**
     * Attention without padding ("varlen", FlashAttention's {@code cu_seqlens}): sequence b's tokens are
     * rows {@code [offsets[b], offsets[b + 1])} of {@code qkv} ({@code [T, 3H]}, q|k|v per row) and of
     * {@code context} ({@code [T, H]}), and each attends to its own tokens only. On the real tokens this
     * is {@link #attention} on the right-padded batch with its mask, without the padded rows' work.
     * Inference: no dropout, no probabilities.
     */
    void attentionPacked(int heads, int headDim, int[] offsets, Buf qkv, Buf context);

    /** Attention backward: {@code dqkv} ({@code [B*S, 3H]}, overwritten) from {@code dContext}, given forward's probs and keep. */
    void attentionBackward(AttentionShape s, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv);

    /**
     * Training attention on packed rows: {@link #attentionPacked}'s layout ({@code qkv} [T, 3H],
     * {@code context} [T, H], sequence b in rows {@code [offsets[b], offsets[b + 1])}) with
     * {@link #attention}'s probabilities and dropout, as if on the padded batch of {@code s}: {@code probs}
     * is {@code [B, heads, S, S]} with only each sequence's {@code len x len} block written, and dropout
     * keeps the padded tensor's element (b, head, query, key) exactly when the padded pass would.
     */
    void attentionPackedTrain(AttentionShape s, int[] offsets, Buf qkv, Buf context, Buf probs, float p, long seed, long site, Mask keep);

    /** Backward of {@link #attentionPackedTrain}: {@code dqkv} ([T, 3H], overwritten) from {@code dContext} ([T, H]). */
    void attentionPackedBackward(AttentionShape s, int[] offsets, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv);

    /** Mean of each row's real tokens ({@code mask} 1; null for all): {@code [B, H]} from {@code [B*S, H]}. */
    void meanPool(Buf hidden, int[] mask, int batch, int seq, int h, Buf out);

    /** Backward of {@link #meanPool}: writes (not adds) {@code dHidden} ({@code [B*S, H]}, zero at padding). */
    void meanPoolBackward(Buf dOut, int[] mask, int batch, int seq, int h, Buf dHidden);

    /**
     * PyTorch's mean cross-entropy with ignore_index {@link Labels#IGNORE_INDEX} on {@code logits
     * [rows, classes]} (labels checked by {@link Labels#count}); when {@code dLogits} is not null it
     * receives d loss / d logits. Returns the loss (NaN when no row has a label).
     */
    float crossEntropy(Buf logits, int rows, int classes, int[] labels, Buf dLogits);
}
