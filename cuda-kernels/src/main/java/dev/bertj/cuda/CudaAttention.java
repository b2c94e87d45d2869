package dev.bertj.cuda;

import dev.bertj.backend.Arena;
import dev.bertj.backend.LayerOps.AttentionShape;
import dev.bertj.backend.Mask;
import dev.bertj.backend.DropoutRng;

/**
 * Attention on the GPU, the simpler form before a fused flash kernel: q, k and v are copied head-major
 * ({@code [batch * heads][S][d]}, the {@code split_heads} kernel, as PyTorch's transpose_for_scores), so
 * each product over all heads of all rows is one strided-batched cuBLAS call, with bertj's masked
 * softmax between them. Six cuBLAS calls per layer and pass, whatever the batch size. The math is in
 * {@code dev.bertj.model.BertSelfAttention}'s comment.
 *
 * <p>In cuBLAS's column-major terms a row-major [S, d] head is a d x S matrix (leading dimension d),
 * and a row-major [S, S] block a column-major S x S one holding its transpose.
 */
final class CudaAttention {
    private final CudaBackend be;
    private final DeviceApi gemm;
    private final int batch;
    private final int seq;
    private final int heads;
    private final int d;
    private final int hidden;
    /** Elements of one head's [S, d] and [S, S] matrices. */
    private final long headSize;
    private final long block;
    /** Matrices in a batched call: every (batch row, head). */
    private final int count;

    CudaAttention(CudaBackend be, DeviceApi gemm, AttentionShape s) {
        this.be = be;
        this.gemm = gemm;
        batch = s.batch();
        seq = s.seq();
        heads = s.heads();
        d = s.headDim();
        hidden = s.hidden();
        headSize = (long) seq * d;
        block = (long) seq * seq;
        count = batch * heads;
    }

    private int softmaxThreads() {
        return Math.min(1024, Math.max(32, (seq + 31) / 32 * 32));
    }

    /** {@code parts} column blocks of H of the [B*S, ld] rows at {@code x}, head-major into a new scratch buffer. */
    private CudaBackend.DevBuf split(long x, int ld, int parts) {
        long n = parts * count * headSize;
        CudaBackend.DevBuf out = be.scratch((int) n);
        be.elementwise("split_heads", n, x, ld, out.at(0), batch, seq, heads, d, parts);
        return out;
    }

    private void merge(CudaBackend.DevBuf in, long x, int ld, int parts) {
        long n = parts * count * headSize;
        be.elementwise("merge_heads", n, in.at(0), x, ld, batch, seq, heads, d, parts);
    }

    void forward(CudaBackend.DevBuf qkv, int[] mask, CudaBackend.DevBuf context, CudaBackend.DevBuf probs, float p, long seed, long site, Mask keep) {
        long n = count * block;
        // The head-major copies, the dropped probabilities and the mask are scratch: back to the arena at
        // the end (work queued later on the stream runs after the kernels that read them).
        int mark = Arena.mark();
        CudaBackend.DevBuf h = split(qkv.at(0), 3 * hidden, 3);
        long q = h.at(0), k = h.at((int) (count * headSize)), v = h.at((int) (2 * count * headSize));
        // scores[s][t] = q[s] . k[t]: column-major C(t, s) = k^T q.
        gemm.gemmBatched(true, false, seq, seq, d, k, d, headSize, q, d, headSize, 0f, probs.at(0), seq, block, count);
        be.launch("masked_softmax_forward", count, seq, softmaxThreads(), probs.at(0), be.additiveMask(mask), heads, seq,
                (float) (1.0 / Math.sqrt(d)));
        CudaBackend.DevBuf dropped = probs;
        if (p > 0f) {
            dropped = be.scratch((int) n);
            be.elementwise("copy_rows", n, probs.at(0), 0, dropped.at(0), 0, 1, (int) n, 0);
            be.elementwise("dropout_forward", n, dropped.at(0), ((CudaBackend.DevMask) keep).address(), n, p, DropoutRng.base(seed, site));
        }
        // context[s][i] = sum_t P'[s][t] v[t][i]: column-major C(i, s) = v P'.
        CudaBackend.DevBuf ctx = be.scratch((int) (count * headSize));
        gemm.gemmBatched(false, false, d, seq, seq, v, d, headSize, dropped.at(0), seq, block, 0f, ctx.at(0), d, headSize, count);
        merge(ctx, context.at(0), hidden, 1);
        Arena.release(mark, null);
    }

    void backward(CudaBackend.DevBuf qkv, CudaBackend.DevBuf probs, Mask keep, float p, CudaBackend.DevBuf dContext, CudaBackend.DevBuf dqkv) {
        long n = count * block;
        long keepAt = keep == null ? 0L : ((CudaBackend.DevMask) keep).address();
        CudaBackend.DevBuf dropped = probs;
        if (keep != null) {
            dropped = be.scratch((int) n);
            be.elementwise("dropout_apply", n, probs.at(0), dropped.at(0), keepAt, n, p);
        }
        CudaBackend.DevBuf h = split(qkv.at(0), 3 * hidden, 3), dctx = split(dContext.at(0), hidden, 1);
        long q = h.at(0), k = h.at((int) (count * headSize)), v = h.at((int) (2 * count * headSize));
        CudaBackend.DevBuf dh = be.scratch((int) (3 * count * headSize)), dp = be.scratch((int) n);
        long dq = dh.at(0), dk = dh.at((int) (count * headSize)), dv = dh.at((int) (2 * count * headSize));
        // dv[t][i] = sum_s P'[s][t] dctx[s][i];  dP'[s][t] = dctx[s] . v[t]
        gemm.gemmBatched(false, true, d, seq, seq, dctx.at(0), d, headSize, dropped.at(0), seq, block, 0f, dv, d, headSize, count);
        gemm.gemmBatched(true, false, seq, seq, d, v, d, headSize, dctx.at(0), d, headSize, 0f, dp.at(0), seq, block, count);
        if (keep != null) be.elementwise("dropout_backward", n, dp.at(0), keepAt, n, p);
        be.launch("softmax_backward", count, seq, softmaxThreads(), probs.at(0), dp.at(0), seq, (float) (1.0 / Math.sqrt(d)));
        // dq[s][i] = sum_t dS[s][t] k[t][i];  dk[t][i] = sum_s dS[s][t] q[s][i]
        gemm.gemmBatched(false, false, d, seq, seq, k, d, headSize, dp.at(0), seq, block, 0f, dq, d, headSize, count);
        gemm.gemmBatched(false, true, d, seq, seq, q, d, headSize, dp.at(0), seq, block, 0f, dk, d, headSize, count);
        merge(dh, dqkv.at(0), 3 * hidden, 3);
    }
}
