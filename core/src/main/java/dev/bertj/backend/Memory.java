package dev.bertj.backend;

import dev.bertj.tensor.Tensor;

/**
 * A backend's memory: activation buffers from the calling thread's {@link Arena}, parameter copies,
 * gradient accumulators, and copies between buffers and the host.
 *
 * <p>Parameters stay {@link Tensor}s: a backend keeps its own copy of each one it is given
 * ({@link #param}), made on first use and made again when the tensor's {@link Tensor#version()}
 * moves. After an optimizer step on the device the device copy is the newer one; the tensor's
 * {@link Tensor#data()} fetches it back when read.
 */
public interface Memory {
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

    /**
     * The host array behind {@code b}, used in place, when this backend's buffers are host memory (the
     * CPU); null on a device. Lets callers read results and gradients without a copy where there is none to make.
     */
    default float[] hostArray(Buf b) {
        return null;
    }

    /**
     * A buffer over {@code host} itself, no copy (the CPU's host-array APIs, such as AdamW over plain
     * arrays); a device backend cannot do that and says so.
     */
    default Buf wrap(float[] host) {
        throw new UnsupportedOperationException("host arrays cannot be used in place on " + getClass().getSimpleName() + "; upload them");
    }

    /** This backend's copy of parameter {@code t} (see the class comment). */
    Buf param(Tensor t);

    /**
     * Drops whatever this backend keeps for these parameters (packed layouts, device copies): their
     * model was closed. A later {@link #param} makes a new copy. The default keeps nothing.
     */
    default void forget(Iterable<Tensor> params) { }

    /** Records that {@link #param}'s copy of {@code t} was changed in place here (an optimizer step). */
    void paramUpdated(Tensor t);

    /** A gradient accumulator for a parameter of {@code n} values: zeros, owned until the backend is closed. */
    Buf gradient(int n);

    /** {@code x[0, n) = 0}. */
    void zero(Buf x, int n);

    /** {@code dst[0, n) = src[0, n)}. */
    void copy(Buf src, Buf dst, int n);

    /**
     * Copies (or with {@code accumulate} adds) {@code rows} rows of {@code width} floats: row r from
     * {@code src[srcOff + r * srcStride]} to {@code dst[dstOff + r * dstStride]}. [CLS] gathers and scatters.
     */
    void copyRows(Buf src, int srcOff, int srcStride, Buf dst, int dstOff, int dstStride, int rows, int width, boolean accumulate);

    /** {@code dst[i] = src[index[i]]} for rows of {@code width} (the masked tokens' states, for the MLM head). */
    default void gatherRows(Buf src, int[] index, int width, Buf dst) {
        for (int i = 0; i < index.length; i++) copyRows(src, index[i] * width, 0, dst, i * width, 0, 1, width, false);
    }

    /** {@code dst[index[i]] += src[i]} for rows of {@code width}: the backward of {@link #gatherRows}. */
    default void scatterAddRows(Buf src, int[] index, int width, Buf dst) {
        for (int i = 0; i < index.length; i++) copyRows(src, i * width, 0, dst, index[i] * width, 0, 1, width, true);
    }

    /**
     * Between a right-padded batch ({@code [B*S, width]}, S = {@code seq}) and its real rows packed
     * ({@code [T, width]}, sequence b in rows {@code [offsets[b], offsets[b + 1])}): {@code toPadded}
     * copies each sequence's packed rows into its padded place (flash-attn's {@code pad_input}, the
     * padding rows left as they are), otherwise the padded batch's real rows into the packed rows
     * ({@code unpad_input}).
     */
    default void repackRows(int[] offsets, int seq, int width, Buf from, Buf to, boolean toPadded) {
        for (int b = 0; b + 1 < offsets.length; b++) {
            int n = (offsets[b + 1] - offsets[b]) * width, packed = offsets[b] * width, padded = b * seq * width;
            copyRows(from, toPadded ? packed : padded, 0, to, toPadded ? padded : packed, 0, 1, n, false);
        }
    }
}
