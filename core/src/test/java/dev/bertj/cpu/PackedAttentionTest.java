package dev.bertj.cpu;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Buf;
import dev.bertj.backend.LayerOps.AttentionShape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Padding-free attention ({@code attentionPacked}) against the padded attention with HF's mask, which it
 * replaces: on the vector kernels and on the scalar reference, on awkward lengths (1, 7, 33, 385) in one
 * batch, and against the padding fallback every other backend inherits from {@link Backend}.
 */
class PackedAttentionTest {
    private static final int[] LENGTHS = {7, 1, 385, 33};
    private static final int HEADS = 3, HEAD_DIM = 5, HIDDEN = HEADS * HEAD_DIM;

    private static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** The same fallback as Backend's default, reached on a CPU backend whose own override is bypassed. */
    private static void viaPadding(CpuBackend cpu, int[] offsets, float[] qkv, float[] context) {
        Backend fallback = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (p, m, args) -> m.getName().startsWith("attentionPacked") ? java.lang.reflect.InvocationHandler.invokeDefault(p, m, args) : m.invoke(cpu, args));
        fallback.attentionPacked(HEADS, HEAD_DIM, offsets, new HostBuf(qkv), new HostBuf(context));
    }

    @Test
    void packedEqualsPaddedWithTheMaskOnEveryRealToken() {
        Random r = new Random(18);
        int batch = LENGTHS.length, seq = 385, total = 0;
        int[] offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++) offsets[b + 1] = total += LENGTHS[b];
        float[] paddedQkv = rand(r, batch * seq * 3 * HIDDEN), packedQkv = new float[total * 3 * HIDDEN];
        int[] mask = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(mask, b * seq, b * seq + LENGTHS[b], 1);
            System.arraycopy(paddedQkv, b * seq * 3 * HIDDEN, packedQkv, offsets[b] * 3 * HIDDEN, LENGTHS[b] * 3 * HIDDEN);
        }
        for (Kernels k : new Kernels[] {Vectorization.kernels(), ScalarKernels.INSTANCE}) {
            CpuBackend cpu = new CpuBackend(k);
            float[] padded = new float[batch * seq * HIDDEN], packed = new float[total * HIDDEN], fallback = new float[total * HIDDEN];
            cpu.attention(new AttentionShape(batch, seq, HEADS, HEAD_DIM), new HostBuf(paddedQkv), mask, new HostBuf(padded), null, 0f, 0, 0, null);
            cpu.attentionPacked(HEADS, HEAD_DIM, offsets, new HostBuf(packedQkv), new HostBuf(packed));
            viaPadding(cpu, offsets, packedQkv, fallback);
            float worst = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < LENGTHS[b] * HIDDEN; i++) {
                    worst = Math.max(worst, Math.abs(padded[b * seq * HIDDEN + i] - packed[offsets[b] * HIDDEN + i]));
                }
            }
            // Only the softmax's sum of exp (now without the padding's exact zeros) is added in another order.
            assertTrue(worst <= 1e-6f, k.name() + ": packed vs padded attention differ by " + worst);
            assertArrayEquals(fallback, extract(padded, offsets, seq), k.name() + ": the padding fallback is the padded attention itself");
        }
        float[] vector = new float[total * HIDDEN], scalar = new float[total * HIDDEN];
        new CpuBackend(Vectorization.kernels()).attentionPacked(HEADS, HEAD_DIM, offsets, new HostBuf(packedQkv), new HostBuf(vector));
        new CpuBackend(ScalarKernels.INSTANCE).attentionPacked(HEADS, HEAD_DIM, offsets, new HostBuf(packedQkv), new HostBuf(scalar));
        for (int i = 0; i < vector.length; i++) assertTrue(Math.abs(vector[i] - scalar[i]) <= 1e-5f, "vector vs scalar kernels at " + i);
    }

    private static float[] extract(float[] padded, int[] offsets, int seq) {
        float[] out = new float[offsets[offsets.length - 1] * HIDDEN];
        for (int b = 0; b + 1 < offsets.length; b++) {
            System.arraycopy(padded, b * seq * HIDDEN, out, offsets[b] * HIDDEN, (offsets[b + 1] - offsets[b]) * HIDDEN);
        }
        return out;
    }

    @Test
    void longestSequencesAreScheduledFirst() {
        assertArrayEquals(new int[] {2, 3, 0, 4, 1}, CpuAttention.byLengthDescending(new int[] {0, 7, 8, 393, 426, 433}));
    }

    /**
     * Training on packed rows: probabilities, dropout mask, context and the backward's dqkv equal the
     * padded pass's on every real token (the probabilities and masks in the padded [B, heads, S, S]
     * layout), on the vector kernels, the scalar reference and the padding fallback.
     */
    @Test
    void packedTrainingEqualsPaddedWithDropout() {
        Random r = new Random(19);
        int[] lengths = {7, 1, 40, 33};
        int batch = lengths.length, seq = 41, total = 0;
        int[] offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++) offsets[b + 1] = total += lengths[b];
        float[] paddedQkv = rand(r, batch * seq * 3 * HIDDEN), packedQkv = new float[total * 3 * HIDDEN];
        float[] paddedDctx = new float[batch * seq * HIDDEN], packedDctx = rand(r, total * HIDDEN);
        int[] mask = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(mask, b * seq, b * seq + lengths[b], 1);
            System.arraycopy(paddedQkv, b * seq * 3 * HIDDEN, packedQkv, offsets[b] * 3 * HIDDEN, lengths[b] * 3 * HIDDEN);
            System.arraycopy(packedDctx, offsets[b] * HIDDEN, paddedDctx, b * seq * HIDDEN, lengths[b] * HIDDEN);
        }
        AttentionShape shape = new AttentionShape(batch, seq, HEADS, HEAD_DIM);
        int n = batch * HEADS * seq * seq;
        float p = 0.3f;
        for (Kernels k : new Kernels[] {Vectorization.kernels(), ScalarKernels.INSTANCE}) {
            CpuBackend cpu = new CpuBackend(k);
            Backend fallback = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (pr, m, args) -> m.getName().startsWith("attentionPacked") ? java.lang.reflect.InvocationHandler.invokeDefault(pr, m, args) : m.invoke(cpu, args));
            float[] ctx = new float[batch * seq * HIDDEN], probs = new float[n], dqkv = new float[batch * seq * 3 * HIDDEN];
            boolean[] keep = new boolean[n];
            cpu.attention(shape, new HostBuf(paddedQkv), mask, new HostBuf(ctx), new HostBuf(probs), p, 5, 7, new HostMask(keep));
            cpu.attentionBackward(shape, new HostBuf(paddedQkv), new HostBuf(probs), new HostMask(keep), p, new HostBuf(paddedDctx), new HostBuf(dqkv));
            for (Backend be : new Backend[] {cpu, fallback}) {
                String what = k.name() + (be == cpu ? "" : " via padding");
                float[] pctx = new float[total * HIDDEN], pprobs = new float[n], pdqkv = new float[total * 3 * HIDDEN];
                boolean[] pkeep = new boolean[n];
                be.attentionPackedTrain(shape, offsets, new HostBuf(packedQkv), new HostBuf(pctx), new HostBuf(pprobs), p, 5, 7, new HostMask(pkeep));
                be.attentionPackedBackward(shape, offsets, new HostBuf(packedQkv), new HostBuf(pprobs), new HostMask(pkeep), p, new HostBuf(packedDctx),
                        new HostBuf(pdqkv));
                int dropped = 0;
                for (int b = 0; b < batch; b++) {
                    for (int h = 0; h < HEADS; h++) {
                        for (int q = 0; q < lengths[b]; q++) {
                            for (int t = 0; t < lengths[b]; t++) {
                                int at = ((b * HEADS + h) * seq + q) * seq + t;
                                assertTrue(keep[at] == pkeep[at], what + ": dropout mask at " + at);
                                if (!keep[at]) dropped++;
                                assertTrue(Math.abs(probs[at] - pprobs[at]) <= 1e-6f, what + ": probability at " + at);
                            }
                        }
                    }
                }
                assertTrue(dropped > 0, "the mask drops something");
                assertClose(what + ": context", extract(ctx, offsets, seq), pctx, 1e-5f);
                assertClose(what + ": dqkv", extractRows(dqkv, offsets, seq, 3 * HIDDEN), pdqkv, 1e-5f);
            }
        }
    }

    private static void assertClose(String what, float[] want, float[] got, float tol) {
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * (1 + Math.abs(want[i])), what + " at " + i + ": " + want[i] + " vs " + got[i]);
        }
    }

    private static float[] extractRows(float[] padded, int[] offsets, int seq, int width) {
        float[] out = new float[offsets[offsets.length - 1] * width];
        for (int b = 0; b + 1 < offsets.length; b++) {
            System.arraycopy(padded, b * seq * width, out, offsets[b] * width, (offsets[b + 1] - offsets[b]) * width);
        }
        return out;
    }
}
