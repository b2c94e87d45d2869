package dev.bertj.backend;

import dev.bertj.nn.FusedLinear;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;

/**
 * The operations BERT's layers are written in, on one device. Model code ({@code dev.bertj.model})
 * calls only these, with {@link Buf} activations, so the CPU ({@code dev.bertj.cpu.CpuBackend}) and
 * CUDA (bertj-cuda) run the same model code; only the kernels differ. Shapes are row-major float32
 * as in PyTorch; a Linear weight is {@code [out, in]}.
 *
 * <p>Parameters stay {@link Tensor}s: a backend keeps its own copy of each one it is given
 * ({@link #param}), made on first use and made again when the tensor's {@link Tensor#version()}
 * moves. After an optimizer step on the device the device copy is the newer one; the tensor's
 * {@link Tensor#data()} fetches it back when read.
 *
 * <p>Activations come from the calling thread's active {@link Arena} ({@link #floats}, {@link #zeros},
 * {@link #mask}), so a training loop reuses the same buffers each step. A backend runs one pass per
 * thread at a time; the CUDA backend runs one pass at a time in all.
 */
public interface Backend extends AutoCloseable {
    /** The device. */
    Device device();

    /** Name for logs and benchmarks (the kernels in use). */
    String name();

    // ---- memory ----

    /** A new arena for one thread's passes (see {@link Arena}). */
    Arena newArena();

    /** {@code n} floats, contents undefined (for results written in full), from the active arena. */
    Buf floats(int n);

    /** {@code n} zeros, from the active arena. */
    Buf zeros(int n);

    /** A keep-mask of {@code n} flags, from the active arena. */
    Mask mask(int n);

    /** A buffer holding a copy of {@code host} (from the active arena). */
    Buf upload(float[] host);

    /** Copies the first {@code host.length} floats of {@code b} into {@code host}; returns {@code host}. */
    float[] download(Buf b, float[] host);

    /** Copies {@code host} into the start of {@code b}. */
    void write(Buf b, float[] host);

    /**
     * A buffer that {@link #download} fills {@code host} from: on the CPU {@code host} itself, so a
     * pass's returned output is written in place; elsewhere a device buffer of the same size.
     */
    Buf resultBuffer(float[] host);

    /** This backend's copy of parameter {@code t} (see the class comment). */
    Buf param(Tensor t);

    /** Records that {@link #param}'s copy of {@code t} was changed in place here (an optimizer step). */
    void paramUpdated(Tensor t);

    /** A gradient accumulator for a parameter of {@code n} values: zeros, owned until {@link #close}. */
    Buf gradient(int n);

    /** {@code x[0, n) = 0}. */
    void zero(Buf x, int n);

    // ---- dense layers ----

    /** {@code y = x W^T + b} on {@code rows} rows, with exact GELU applied to {@code y} when {@code gelu}. */
    void linear(Buf x, int rows, Linear l, Buf y, boolean gelu);

    /** {@code y = x [W_1; W_2; ...]^T + [b_1; b_2; ...]}: the parts' outputs side by side in each row. */
    void linear(Buf x, int rows, FusedLinear f, Buf y);

    /**
     * Linear backward with {@code dy} a strided view (row r at {@code dyOff + r * ldy}):
     * {@code dx = dy W} (overwritten, or added with {@code accumulateDx}; skipped when null),
     * {@code dW += dy^T x}, {@code db += 1^T dy} (skipped when the layer has no bias).
     */
    void linearBackward(Linear l, Buf x, Buf dy, int dyOff, int ldy, int rows, Buf dx, boolean accumulateDx, Buf dW, Buf db);

    /** Applies HF activation {@code act} (gelu, gelu_new, relu, tanh, ...) to {@code x[0, n)} in place. */
    void activation(String act, Buf x, int n);

    /** {@code d[i] *= act'(pre[i])} with {@code pre} the activation's input. */
    void activationBackward(String act, Buf pre, Buf d, int n);

    /** {@code d[i] = 0} where {@code z[i] <= 0} (backward of ReLU from its input). */
    void reluBackward(Buf z, Buf d, int n);

    /** {@code d[i] *= 1 - y[i]^2} (backward of tanh from its output). */
    void tanhBackward(Buf y, Buf d, int n);

    // ---- normalization, dropout, element-wise ----

    /**
     * {@code y = LayerNorm(x + residual)} over rows of {@code ln}'s width ({@code residual} may be null,
     * {@code y} may be {@code x}); {@code xhat} and {@code rstd}, when not null, keep what backward needs.
     */
    void layerNorm(Buf x, Buf residual, int rows, LayerNorm ln, Buf y, Buf xhat, Buf rstd);

    /** LayerNorm backward: {@code dz} (may be {@code dy}) gets d/d(x + residual); {@code dGamma}, {@code dBeta} accumulate. */
    void layerNormBackward(LayerNorm ln, Buf xhat, Buf rstd, Buf dy, int rows, Buf dz, Buf dGamma, Buf dBeta);

    /** Inverted dropout on {@code x[0, n)} in place with {@link dev.bertj.nn.Dropout}'s masks for (seed, site); {@code keep} receives the mask. */
    void dropout(Buf x, int n, float p, long seed, long site, Mask keep);

    /** {@code d = d * keep / (1 - p)} in place. */
    void dropoutBackward(Buf d, int n, float p, Mask keep);

    /** {@code a[0, n) += b[0, n)}. */
    void add(Buf a, Buf b, int n);

    /** {@code x[0, n) *= s}. */
    void scale(Buf x, int n, float s);

    /** {@code x[0, n) /= d} (divided, not multiplied by 1/d, as the CPU path and PyTorch's {@code /=}). */
    void divide(Buf x, int n, float d);

    /** The sum of squares of {@code x[0, n)}. */
    double sumSquares(Buf x, int n);

    /** {@link #sumSquares(Buf, int)} of each whole buffer (a GPU reads all of them back at once). */
    default double[] sumSquares(java.util.List<Buf> xs) {
        double[] out = new double[xs.size()];
        for (int i = 0; i < out.length; i++) out[i] = sumSquares(xs.get(i), xs.get(i).size());
        return out;
    }

    /**
     * Copies (or with {@code accumulate} adds) {@code rows} rows of {@code width} floats: row r from
     * {@code src[srcOff + r * srcStride]} to {@code dst[dstOff + r * dstStride]}. [CLS] gathers and scatters.
     */
    void copyRows(Buf src, int srcOff, int srcStride, Buf dst, int dstOff, int dstStride, int rows, int width, boolean accumulate);

    // ---- BERT-specific ----

    /**
     * {@code out[b,s] = word[ids[b,s]] + position[s] + type[types[b,s]]} (ids already checked;
     * {@code types} may be null for all zeros).
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

    /** Attention backward: {@code dqkv} ({@code [B*S, 3H]}, overwritten) from {@code dContext}, given forward's probs and keep. */
    void attentionBackward(AttentionShape s, Buf qkv, Buf probs, Mask keep, float p, Buf dContext, Buf dqkv);

    /** Mean of each row's real tokens ({@code mask} 1; null for all): {@code [B, H]} from {@code [B*S, H]}. */
    void meanPool(Buf hidden, int[] mask, int batch, int seq, int h, Buf out);

    /** Backward of {@link #meanPool}: writes (not adds) {@code dHidden} ({@code [B*S, H]}, zero at padding). */
    void meanPoolBackward(Buf dOut, int[] mask, int batch, int seq, int h, Buf dHidden);

    /**
     * PyTorch's mean cross-entropy with ignore_index -100 on {@code logits [rows, classes]}; when
     * {@code dLogits} is not null it receives d loss / d logits. Returns the loss (NaN when no row has a label).
     */
    float crossEntropy(Buf logits, int rows, int classes, int[] labels, Buf dLogits);

    /**
     * PyTorch's AdamW update of one parameter in place (see {@code dev.bertj.train.AdamW}), with the
     * scalars already formed in double and rounded to float.
     */
    void adamw(Buf p, Buf g, Buf m, Buf v, int n, float decay, float b1, float oneMinusB1, float b2, float oneMinusB2,
               float negStepSize, float bc2Sqrt, float eps);

    /** Waits for queued work (a no-op on the CPU); for timing. */
    default void synchronize() { }

    /** Frees what this backend holds on its device (parameter copies, gradients, arenas). */
    @Override
    void close();
}
