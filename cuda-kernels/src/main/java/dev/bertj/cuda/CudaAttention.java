package dev.bertj.cuda;

import dev.bertj.backend.Backend.AttentionShape;
import dev.bertj.backend.Mask;
import dev.bertj.nn.Dropout;

/**
 * Attention on the GPU, the simpler form before a fused flash kernel: per batch row, cuBLAS batched
 * GEMMs over the heads (strided views of the q|k|v rows, as the CPU's per-head GEMMs) with bertj's
 * masked softmax between them. The math is in {@code dev.bertj.model.BertSelfAttention}'s comment.
 *
 * <p>In cuBLAS's column-major terms a row-major [S, d] head view at stride 3H is a d x S matrix with
 * leading dimension 3H, and a row-major [S, S] block a column-major S x S one holding its transpose.
 */
final class CudaAttention {
    private final CudaBackend be;
    private final DeviceApi gemm;
    private final int batch;
    private final int seq;
    private final int heads;
    private final int d;
    private final int hidden;
    private final int ld;
    private final long block;

    CudaAttention(CudaBackend be, DeviceApi gemm, AttentionShape s) {
        this.be = be;
        this.gemm = gemm;
        batch = s.batch();
        seq = s.seq();
        heads = s.heads();
        d = s.headDim();
        hidden = s.hidden();
        ld = 3 * hidden;
        block = (long) seq * seq;
    }

    private int softmaxThreads() {
        return Math.min(1024, Math.max(32, (seq + 31) / 32 * 32));
    }

    private int threads(long n) {
        return (int) ((n + 255) / 256);
    }

    void forward(CudaBackend.DevBuf qkv, int[] mask, CudaBackend.DevBuf context, CudaBackend.DevBuf probs, float p, long seed, long site, Mask keep) {
        long n = batch * heads * block;
        for (int b = 0; b < batch; b++) {
            long q = qkv.at(b * seq * ld);
            // scores[s][t] = q[s] . k[t]: column-major C(t, s) = k_cm^T q_cm.
            gemm.gemmBatched(true, false, seq, seq, d, q + 4L * hidden, ld, d, q, ld, d, 0f, probs.at((int) (b * heads * block)), seq, block, heads);
        }
        be.kernel("masked_softmax_forward", seq, batch * heads, softmaxThreads(), probs.at(0), be.additiveMask(mask), heads, seq,
                (float) (1.0 / Math.sqrt(d)));
        CudaBackend.DevBuf dropped = probs;
        if (p > 0f) {
            dropped = be.scratch((int) n);
            be.kernel("copy_rows", threads(n), 1, 256, probs.at(0), 0, dropped.at(0), 0, 1, (int) n, 0);
            be.kernel("dropout_forward", threads(n), 1, 256, dropped.at(0), ((CudaBackend.DevMask) keep).address(), n, p, Dropout.base(seed, site));
        }
        for (int b = 0; b < batch; b++) {
            long v = qkv.at(b * seq * ld + 2 * hidden);
            // context[s][i] = sum_t P'[s][t] v[t][i]: column-major C(i, s) = v_cm P'_cm.
            gemm.gemmBatched(false, false, d, seq, seq, v, ld, d, dropped.at((int) (b * heads * block)), seq, block, 0f,
                    context.at(b * seq * hidden), hidden, d, heads);
        }
    }

    void backward(CudaBackend.DevBuf qkv, CudaBackend.DevBuf probs, Mask keep, float p, CudaBackend.DevBuf dContext, CudaBackend.DevBuf dqkv) {
        long n = batch * heads * block;
        long keepAt = keep == null ? 0L : ((CudaBackend.DevMask) keep).address();
        CudaBackend.DevBuf dropped = probs;
        if (keep != null) {
            dropped = be.scratch((int) n);
            be.kernel("dropout_apply", threads(n), 1, 256, probs.at(0), dropped.at(0), keepAt, n, p);
        }
        CudaBackend.DevBuf dp = be.scratch((int) n);
        for (int b = 0; b < batch; b++) {
            long row = b * seq * ld, v = qkv.at((int) row + 2 * hidden), dctx = dContext.at(b * seq * hidden);
            long pb = dropped.at((int) (b * heads * block)), dpb = dp.at((int) (b * heads * block));
            // dv[t][i] = sum_s P'[s][t] dctx[s][i]
            gemm.gemmBatched(false, true, d, seq, seq, dctx, hidden, d, pb, seq, block, 0f, dqkv.at((int) row + 2 * hidden), ld, d, heads);
            // dP'[s][t] = dctx[s] . v[t]
            gemm.gemmBatched(true, false, seq, seq, d, v, ld, d, dctx, hidden, d, 0f, dpb, seq, block, heads);
        }
        if (keep != null) be.kernel("dropout_backward", threads(n), 1, 256, dp.at(0), keepAt, n, p);
        be.kernel("softmax_backward", seq, batch * heads, softmaxThreads(), probs.at(0), dp.at(0), seq, (float) (1.0 / Math.sqrt(d)));
        for (int b = 0; b < batch; b++) {
            long row = b * seq * ld, q = qkv.at((int) row), k = qkv.at((int) row + hidden);
            long dsb = dp.at((int) (b * heads * block));
            // dq[s][i] = sum_t dS[s][t] k[t][i];  dk[t][i] = sum_s dS[s][t] q[s][i]
            gemm.gemmBatched(false, false, d, seq, seq, k, ld, d, dsb, seq, block, 0f, dqkv.at((int) row), ld, d, heads);
            gemm.gemmBatched(false, true, d, seq, seq, q, ld, d, dsb, seq, block, 0f, dqkv.at((int) row + hidden), ld, d, heads);
        }
    }
}
