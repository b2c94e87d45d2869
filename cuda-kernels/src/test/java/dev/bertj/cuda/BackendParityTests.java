package dev.bertj.cuda;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Activation;
import dev.bertj.backend.AdamWStep;
import dev.bertj.backend.LayerOps.AttentionShape;
import dev.bertj.backend.Buf;
import dev.bertj.backend.Mask;
import dev.bertj.cpu.CpuBackend;
import dev.bertj.cpu.HostBuf;
import dev.bertj.cpu.HostMask;
import dev.bertj.model.BertClassifier;
import dev.bertj.model.BertConfig;
import dev.bertj.model.BertForSequenceClassification;
import dev.bertj.model.BertModel;
import dev.bertj.model.BertModelOutput;
import dev.bertj.model.ClassifierOutput;
import dev.bertj.model.TrainMode;
import dev.bertj.nn.FusedLinear;
import dev.bertj.nn.Gradients;
import dev.bertj.nn.LayerNorm;
import dev.bertj.nn.Linear;
import dev.bertj.tensor.Tensor;
import dev.bertj.tokenizer.Batch;
import dev.bertj.train.AdamW;
import dev.bertj.train.GradClip;
import dev.bertj.train.Metrics;
import dev.bertj.train.TaskModel;
import dev.bertj.train.Trainer;
import dev.bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU backend against the CPU backend (the reference): every operation, forward and backward,
 * the full forward pass, a training step's gradients and updated weights. Subclasses supply the
 * backend: on a real device ({@link CudaBackendTest}) or on the host emulation of the device
 * ({@link EmulatedBackendTest}). Each tolerance is derived from the operation's error bound on both
 * sides ({@link ErrorBounds}), from the data where the operation is a sum of products: the two sides sum
 * in different orders (cuBLAS, block reductions) and the GPU's expf, erff, tanhf and logf are not
 * correctly rounded. Operations that round identically on both sides (dropout from the same counter hash,
 * element-wise adds, scales, copies, embeddings, mean pooling, AdamW) must agree exactly.
 */
abstract class BackendParityTests {
    static final CpuBackend CPU = CpuBackend.get();
    /**
     * Composite operations whose bound is not computed from the data here (LayerNorm backward, attention's
     * context and gradient), on values of order 1 (|x| ≤ 4, weights ≤ 1): their longest chains are two
     * sums of at most 40 products with float rounding on each side (2 gamma(40) times a sum of magnitudes
     * ≤ 2: 1e-5), plus a softmax's probability error (under 1e-6 relative, see ErrorBounds.softmax) times
     * |v| ≤ 4, plus LayerNorm's rstd (at most 1/0.6 here) scaling the first: 2e-5.
     */
    static final float OP_TOL = 2e-5f;
    /**
     * The whole 2-layer model (hidden 32): OP_TOL per operation, compounded over the ~12 operations of a
     * pass whose gains are of order 1 (LayerNorm renormalises each layer's output), with gradients a pass
     * deeper: 10 OP_TOL.
     */
    static final float MODEL_TOL = 2e-4f;

    /** A fresh GPU-side backend (fp32). */
    abstract CudaBackend backend();

    private CudaBackend gpu;

    CudaBackend gpu() {
        if (gpu == null) gpu = backend();
        return gpu;
    }

    @AfterEach
    void close() {
        if (gpu != null) gpu.close();
        gpu = null;
    }

    static float[] randn(SplittableRandom r, int n, double mean, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble(1e-12, 1), v = r.nextDouble();
            a[i] = (float) (mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return a;
    }

    /** |expected - actual| ≤ bound(i) for every element i (the bound derived from that element's data). */
    static void assertWithin(String what, float[] expected, float[] actual, java.util.function.IntToDoubleFunction bound) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) expected[i] - actual[i]), b = bound.applyAsDouble(i);
            if (!(e <= b)) {
                throw new AssertionError(what + ": at " + i + " cpu " + expected[i] + ", gpu " + actual[i] + ": diff " + e + " > bound " + b);
            }
        }
    }

    static void assertClose(String what, float[] expected, float[] actual, float tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs(expected[i] - actual[i]);
            if (!(e <= worst)) {
                worst = e;
                at = i;
            }
        }
        assertTrue(worst <= tol, what + ": max abs diff " + worst + " at " + at + " (cpu " + (at < 0 ? 0 : expected[at]) + ", gpu "
                + (at < 0 ? 0 : actual[at]) + ") > " + tol);
    }

    float[] down(Buf b) {
        return gpu().download(b, new float[b.size()]);
    }

    Buf up(float[] a) {
        return gpu().upload(a);
    }

    static Buf h(float[] a) {
        return new HostBuf(a.clone());
    }

    // ---- operations ----

    @Test
    void linearFusedAndBackward() {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 7, in = 12, out = 10;
        Linear l = new Linear(new Tensor(randn(r, out * in, 0, 0.5), out, in), new Tensor(randn(r, out, 0, 0.5), out));
        Linear l2 = new Linear(new Tensor(randn(r, 6 * in, 0, 0.5), 6, in), new Tensor(randn(r, 6, 0, 0.5), 6));
        float[] x = randn(r, rows * in, 0, 1);
        // Each output is a sum of in products and the bias: gamma(in + 1) times |x||W|^T + |b| on each side.
        // With GELU after it, that error passes through |gelu'| ≤ 1.13 and GELU's own bound adds.
        double g = 2 * ErrorBounds.gamma(in + 1);
        Buf mag = CPU.floats(rows * out), pre = CPU.floats(rows * out);
        CPU.linear(h(ErrorBounds.abs(x)), rows, ErrorBounds.abs(l), mag, null);
        CPU.linear(h(x), rows, l, pre, null);
        float[] m = HostBuf.of(mag), z = HostBuf.of(pre);
        for (boolean gelu : new boolean[] {false, true}) {
            Buf yc = CPU.floats(rows * out), yg = gpu().floats(rows * out);
            CPU.linear(h(x), rows, l, yc, gelu ? Activation.GELU : null);
            gpu().linear(up(x), rows, l, yg, gelu ? Activation.GELU : null);
            assertWithin("linear gelu=" + gelu, HostBuf.of(yc), down(yg), i -> gelu ? 1.13 * g * m[i] + ErrorBounds.gelu(z[i]) : g * m[i]);
        }
        FusedLinear f = new FusedLinear(List.of(l, l2));
        Buf fc = CPU.floats(rows * 16), fg = gpu().floats(rows * 16), fm = CPU.floats(rows * 16);
        CPU.linear(h(x), rows, f.parts(), fc);
        gpu().linear(up(x), rows, f.parts(), fg);
        CPU.linear(h(ErrorBounds.abs(x)), rows, List.of(ErrorBounds.abs(l), ErrorBounds.abs(l2)), fm);
        float[] fmag = HostBuf.of(fm);
        assertWithin("fused linear", HostBuf.of(fc), down(fg), i -> g * fmag[i]);

        // Backward from a strided view (the second part's columns of a fused [rows, 16] gradient), dx accumulated.
        float[] dy = randn(r, rows * 16, 0, 1), dx0 = randn(r, rows * in, 0, 1);
        Buf dxc = h(dx0), dWc = CPU.gradient(6 * in), dbc = CPU.gradient(6);
        Buf dxg = up(dx0), dWg = gpu().gradient(6 * in), dbg = gpu().gradient(6);
        CPU.linearBackward(l2, h(x), h(dy), 10, 16, rows, dxc, true, dWc, dbc);
        gpu().linearBackward(l2, up(x), up(dy), 10, 16, rows, dxg, true, dWg, dbg);
        // dx = dx0 + dy W (6 products), dW = dy^T x and db = sum of dy (7 rows, into zeros): at most 8 roundings
        // per side, times the same computation on magnitudes.
        Buf dxm = h(ErrorBounds.abs(dx0)), dWm = CPU.gradient(6 * in), dbm = CPU.gradient(6);
        CPU.linearBackward(ErrorBounds.abs(l2), h(ErrorBounds.abs(x)), h(ErrorBounds.abs(dy)), 10, 16, rows, dxm, true, dWm, dbm);
        double gb = 2 * ErrorBounds.gamma(8);
        float[] mdx = HostBuf.of(dxm), mdW = HostBuf.of(dWm), mdb = HostBuf.of(dbm);
        assertWithin("linear dx", HostBuf.of(dxc), down(dxg), i -> gb * mdx[i]);
        assertWithin("linear dW", HostBuf.of(dWc), down(dWg), i -> gb * mdW[i]);
        assertWithin("linear db", HostBuf.of(dbc), down(dbg), i -> gb * mdb[i]);
    }

    @Test
    void activationsAndTheirBackward() {
        SplittableRandom r = new SplittableRandom(2);
        int n = 1000;
        float[] x = randn(r, n, 0, 2), d = randn(r, n, 0, 1);
        // relu rounds nothing (a max, or a zero): exact. gelu and tanh within their functions' bounds (ErrorBounds).
        for (String act : List.of("gelu", "relu", "tanh")) {
            Buf c = h(x), g = up(x);
            CPU.activation(Activation.of(act), c, n);
            gpu().activation(Activation.of(act), g, n);
            float[] want = HostBuf.of(c);
            assertWithin(act, want, down(g), i -> switch (act) {
                case "gelu" -> ErrorBounds.gelu(x[i]);
                case "tanh" -> ErrorBounds.tanh(want[i]);
                default -> 0;
            });
        }
        for (String act : List.of("gelu", "relu")) {
            Buf c = h(d), g = up(d);
            CPU.activationBackward(Activation.of(act), h(x), c, n);
            gpu().activationBackward(Activation.of(act), up(x), g, n);
            assertWithin(act + " backward", HostBuf.of(c), down(g), i -> act.equals("gelu") ? ErrorBounds.geluBackward(x[i], d[i]) : 0);
        }
        float[] y = x.clone();
        for (int i = 0; i < n; i++) y[i] = (float) Math.tanh(y[i]);
        Buf c = h(d), g = up(d);
        // tanh's derivative is taken from its output (Activation.TANH.derivativeFrom()).
        CPU.activationBackward(Activation.TANH, h(y), c, n);
        gpu().activationBackward(Activation.TANH, up(y), g, n);
        assertWithin("tanh backward", HostBuf.of(c), down(g), i -> ErrorBounds.tanhBackward(y[i], d[i]));
        assertFalse(gpu().supports(Activation.GELU_TANH), "the GPU has no tanh-GELU kernel and says so");
    }

    @Test
    void layerNormForwardAndBackward() {
        SplittableRandom r = new SplittableRandom(3);
        int rows = 9, hid = 40;
        LayerNorm ln = new LayerNorm(new Tensor(randn(r, hid, 1, 0.3), hid), new Tensor(randn(r, hid, 0, 0.3), hid), 1e-12f);
        float[] x = randn(r, rows * hid, 0.5, 2), res = randn(r, rows * hid, 0, 1), dy = randn(r, rows * hid, 0, 1);
        Buf yc = CPU.floats(rows * hid), xc = CPU.floats(rows * hid), sc = CPU.floats(rows);
        Buf yg = gpu().floats(rows * hid), xg = gpu().floats(rows * hid), sg = gpu().floats(rows);
        CPU.layerNorm(h(x), h(res), rows, ln, yc, xc, sc);
        gpu().layerNorm(up(x), up(res), rows, ln, yg, xg, sg);
        // Row sums in any order (the emulation's are serial): hid - 1 roundings on the longest path.
        double[][] b = ErrorBounds.layerNorm(x, res, rows, hid, ln.weight().data(), ln.bias().data(), HostBuf.of(xc), HostBuf.of(sc), hid - 1);
        assertWithin("layernorm y", HostBuf.of(yc), down(yg), i -> b[0][i]);
        assertWithin("layernorm xhat", HostBuf.of(xc), down(xg), i -> b[1][i]);
        assertWithin("layernorm rstd", HostBuf.of(sc), down(sg), i -> b[2][i]);
        Buf dzc = CPU.floats(rows * hid), dgc = CPU.gradient(hid), dbc = CPU.gradient(hid);
        Buf dzg = gpu().floats(rows * hid), dgg = gpu().gradient(hid), dbg = gpu().gradient(hid);
        CPU.layerNormBackward(ln, xc, sc, h(dy), rows, dzc, dgc, dbc);
        gpu().layerNormBackward(ln, xg, sg, up(dy), rows, dzg, dgg, dbg);
        assertClose("layernorm dz", HostBuf.of(dzc), down(dzg), OP_TOL);
        assertClose("layernorm dgamma", HostBuf.of(dgc), down(dgg), OP_TOL);
        assertClose("layernorm dbeta", HostBuf.of(dbc), down(dbg), OP_TOL);
    }

    @Test
    void dropoutMasksAreTheCpusExactly() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 5000;
        float p = 0.1f;
        float[] x = randn(r, n, 0, 1), d = randn(r, n, 0, 1);
        Buf xc = h(x), xg = up(x);
        Mask kc = CPU.mask(n), kg = gpu().mask(n);
        CPU.dropout(xc, n, p, 42, 8 * 4096 + 9, kc);
        gpu().dropout(xg, n, p, 42, 8 * 4096 + 9, kg);
        assertArrayEquals(HostBuf.of(xc), down(xg), "dropout values");
        Buf dc = h(d), dg = up(d);
        CPU.dropoutBackward(dc, n, p, kc);
        gpu().dropoutBackward(dg, n, p, kg);
        assertArrayEquals(HostBuf.of(dc), down(dg), "dropout backward (the same mask)");
        int dropped = 0;
        for (boolean k : HostMask.of(kc)) if (!k) dropped++;
        assertTrue(dropped > 300 && dropped < 700, "about 10% dropped, got " + dropped);
    }

    @Test
    void elementwiseAndRowCopies() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 777;
        float[] a = randn(r, n, 0, 1), b = randn(r, n, 0, 1);
        Buf ac = h(a), ag = up(a);
        CPU.add(ac, h(b), n);
        gpu().add(ag, up(b), n);
        CPU.scale(ac, n, 0.37f);
        gpu().scale(ag, n, 0.37f);
        CPU.divide(ac, n, 3f);
        gpu().divide(ag, n, 3f);
        assertArrayEquals(HostBuf.of(ac), down(ag), "add, scale, divide are exact");
        // Squares of non-negative sums: the CPU's is double (exact enough); the GPU rounds each square and
        // sums blocks of 256 in float in any order (255 roundings at most), the host adds blocks in double.
        assertEquals(CPU.sumSquares(ac, n), gpu().sumSquares(ag, n), ErrorBounds.gamma(256) * CPU.sumSquares(ac, n), "sum of squares");
        // [CLS] gather from [3, 5, 8] and scatter-add back.
        float[] hidden = randn(r, 3 * 5 * 8, 0, 1), cls = randn(r, 3 * 8, 0, 1);
        Buf gc = CPU.floats(24), gg = gpu().floats(24);
        CPU.copyRows(h(hidden), 0, 40, gc, 0, 8, 3, 8, false);
        gpu().copyRows(up(hidden), 0, 40, gg, 0, 8, 3, 8, false);
        assertArrayEquals(HostBuf.of(gc), down(gg), "gather");
        Buf hc = h(hidden), hg = up(hidden);
        CPU.copyRows(h(cls), 0, 8, hc, 8, 40, 3, 8, true);
        gpu().copyRows(up(cls), 0, 8, hg, 8, 40, 3, 8, true);
        assertArrayEquals(HostBuf.of(hc), down(hg), "scatter-add at an offset");
    }

    @Test
    void embeddingsAndPoolingAndLoss() {
        SplittableRandom r = new SplittableRandom(6);
        int batch = 3, seq = 5, hid = 8, vocab = 11;
        Tensor word = new Tensor(randn(r, vocab * hid, 0, 1), vocab, hid), pos = new Tensor(randn(r, 16 * hid, 0, 1), 16, hid);
        Tensor type = new Tensor(randn(r, 2 * hid, 0, 1), 2, hid);
        int[] ids = {2, 5, 5, 7, 3, 2, 9, 3, 0, 0, 2, 1, 1, 1, 3}, types = {0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1};
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0};
        Buf ec = CPU.floats(batch * seq * hid), eg = gpu().floats(batch * seq * hid);
        CPU.embeddings(ids, types, batch, seq, word, pos, type, ec);
        gpu().embeddings(ids, types, batch, seq, word, pos, type, eg);
        assertArrayEquals(HostBuf.of(ec), down(eg), "embeddings (word + position + type, the same float adds in the same order)");
        float[] dOut = randn(r, batch * seq * hid, 0, 1);
        Buf[] c = {CPU.gradient(vocab * hid), CPU.gradient(16 * hid), CPU.gradient(2 * hid)};
        Buf[] g = {gpu().gradient(vocab * hid), gpu().gradient(16 * hid), gpu().gradient(2 * hid)};
        CPU.embeddingsBackward(ids, types, batch, seq, hid, h(dOut), c[0], c[1], c[2]);
        gpu().embeddingsBackward(ids, types, batch, seq, hid, up(dOut), g[0], g[1], g[2]);
        // Scatter-adds in any order (atomics): each table entry sums at most batch * seq tokens' gradients,
        // so gamma(batch * seq) times the same sums of magnitudes, on each side.
        Buf[] m = {CPU.gradient(vocab * hid), CPU.gradient(16 * hid), CPU.gradient(2 * hid)};
        CPU.embeddingsBackward(ids, types, batch, seq, hid, h(ErrorBounds.abs(dOut)), m[0], m[1], m[2]);
        for (int t = 0; t < 3; t++) {
            float[] mt = HostBuf.of(m[t]);
            assertWithin("embedding table gradient " + t, HostBuf.of(c[t]), down(g[t]), i -> 2 * ErrorBounds.gamma(batch * seq) * mt[i]);
        }

        Buf mc = CPU.floats(batch * hid), mg = gpu().floats(batch * hid);
        CPU.meanPool(ec, mask, batch, seq, hid, mc);
        gpu().meanPool(eg, mask, batch, seq, hid, mg);
        assertArrayEquals(HostBuf.of(mc), down(mg), "mean pool (the same serial sum and the same rounded 1/count)");
        float[] df = randn(r, batch * hid, 0, 1);
        Buf dhc = CPU.floats(batch * seq * hid), dhg = gpu().floats(batch * seq * hid);
        CPU.meanPoolBackward(h(df), mask, batch, seq, hid, dhc);
        gpu().meanPoolBackward(up(df), mask, batch, seq, hid, dhg);
        assertArrayEquals(HostBuf.of(dhc), down(dhg), "mean pool backward (one product by the same 1/count)");

        float[] logits = randn(r, 4 * 3, 0, 2);
        int[] labels = {2, -100, 0, 1};
        Buf dlc = CPU.floats(12), dlg = gpu().floats(12);
        float lc = CPU.crossEntropy(h(logits), 4, 3, labels, dlc), lg = gpu().crossEntropy(up(logits), 4, 3, labels, dlg);
        // The GPU's expf (2 ulp) and logf (1 ulp) against the CPU's double: see ErrorBounds.logSumExp.
        float big = ErrorBounds.maxAbs(logits);
        assertEquals(lc, lg, ErrorBounds.crossEntropyLoss(big, 3), "cross-entropy loss");
        assertClose("cross-entropy gradient", HostBuf.of(dlc), down(dlg), (float) ErrorBounds.crossEntropyGradient(big, 3, 3));
    }

    @Test
    void attentionWithPaddingAndDropout() {
        SplittableRandom r = new SplittableRandom(7);
        AttentionShape s = new AttentionShape(2, 6, 3, 4);
        int rows = 12, hid = 12, n = 2 * 3 * 36;
        int[] mask = {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1};
        float[] qkv = randn(r, rows * 3 * hid, 0, 1), dctx = randn(r, rows * hid, 0, 1);
        // Scores q.k / sqrt(d) are sums of d products on each side (gamma(d) of sum |q||k|, then the scale's
        // rounding): dz bounds their difference, which softmax turns into a relative error of the probabilities.
        double qk = 0;
        for (int b = 0; b < 2; b++) {
            for (int hd = 0; hd < 3; hd++) {
                for (int i = 0; i < 6; i++) {
                    for (int j = 0; j < 6; j++) {
                        double dot = 0;
                        for (int e = 0; e < 4; e++) dot += Math.abs(qkv[(b * 6 + i) * 36 + hd * 4 + e] * qkv[(b * 6 + j) * 36 + 12 + hd * 4 + e]);
                        qk = Math.max(qk, dot);
                    }
                }
            }
        }
        double dz = (2 * ErrorBounds.gamma(4) + 2 * ErrorBounds.U) * 0.5 * qk;
        for (float p : new float[] {0f, 0.2f}) {
            Buf cc = CPU.floats(rows * hid), pc = CPU.floats(n), cg = gpu().floats(rows * hid), pg = gpu().floats(n);
            Mask kc = p > 0 ? CPU.mask(n) : null, kg = p > 0 ? gpu().mask(n) : null;
            CPU.attention(s, h(qkv), mask, cc, pc, p, 3, 77, kc);
            gpu().attention(s, up(qkv), mask, cg, pg, p, 3, 77, kg);
            assertClose("attention context p=" + p, HostBuf.of(cc), down(cg), OP_TOL);
            float[] probs = HostBuf.of(pc);
            // Dropout's 1/(1 - p) (the same rounded factor on both sides) rounds once more.
            assertWithin("attention probabilities p=" + p, probs, down(pg), i -> ErrorBounds.softmax(probs[i], 6, dz) + ErrorBounds.U * Math.abs(probs[i]));
            Buf dc = CPU.floats(rows * 3 * hid), dg = gpu().floats(rows * 3 * hid);
            CPU.attentionBackward(s, h(qkv), pc, kc, p, h(dctx), dc);
            gpu().attentionBackward(s, up(qkv), pg, kg, p, up(dctx), dg);
            assertClose("attention dqkv p=" + p, HostBuf.of(dc), down(dg), OP_TOL);
        }
        // Inference without probabilities out.
        Buf cc = CPU.floats(rows * hid), cg = gpu().floats(rows * hid);
        CPU.attention(s, h(qkv), null, cc, null, 0f, 0, 0, null);
        gpu().attention(s, up(qkv), null, cg, null, 0f, 0, 0, null);
        assertClose("attention without mask", HostBuf.of(cc), down(cg), OP_TOL);
    }

    @Test
    void paddingFreeAttentionMatchesTheCpus() {
        // Sequences of 4, 1 and 6 tokens packed in 11 rows; the GPU pads them back (Backend's default).
        SplittableRandom r = new SplittableRandom(18);
        int[] offsets = {0, 4, 5, 11};
        int hid = 12;
        float[] qkv = randn(r, 11 * 3 * hid, 0, 1);
        Buf cc = CPU.floats(11 * hid), cg = gpu().floats(11 * hid);
        CPU.attentionPacked(3, 4, offsets, h(qkv), cc);
        gpu().attentionPacked(3, 4, offsets, up(qkv), cg);
        assertClose("padding-free attention context", HostBuf.of(cc), down(cg), OP_TOL);
    }

    @Test
    void adamwMatchesTheCpuStep() {
        SplittableRandom r = new SplittableRandom(8);
        int n = 300;
        float[] p = randn(r, n, 0, 1), g = randn(r, n, 0, 1), m = randn(r, n, 0, 0.1), v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Math.abs(randn(r, 1, 0, 0.01)[0]);
        Buf pc = h(p), mc = h(m), vc = h(v), pg = up(p), mg = up(m), vg = up(v);
        AdamWStep step = new AdamWStep(0.99f, 0.9f, 0.1f, 0.999f, 0.001f, -1e-3f, 0.03f, 1e-8f);
        CPU.adamw(pc, h(g), mc, vc, n, step);
        gpu().adamw(pg, up(g), mg, vg, n, step);
        assertArrayEquals(HostBuf.of(pc), down(pg), "parameters (same float operations, IEEE sqrt and divide)");
        assertArrayEquals(HostBuf.of(mc), down(mg), "first moments");
        assertArrayEquals(HostBuf.of(vc), down(vg), "second moments");
    }

    // ---- the model ----

    static BertConfig config() {
        return BertConfig.of(Map.of("vocab_size", 23L, "hidden_size", 32L, "num_hidden_layers", 2L, "num_attention_heads", 4L,
                "intermediate_size", 48L, "max_position_embeddings", 16L, "type_vocab_size", 2L));
    }

    /** Every weight of {@code names}, random (larger than BERT's init, so that differences show), as fresh tensors. */
    static Map<String, Tensor> weights(Map<String, Tensor> names, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        names.forEach((k, t) -> w.put(k, new Tensor(randn(r, t.size(), k.contains("LayerNorm.weight") ? 1 : 0, 0.2), t.shape())));
        return w;
    }

    static Map<String, Tensor> copy(Map<String, Tensor> w) {
        Map<String, Tensor> c = new LinkedHashMap<>();
        w.forEach((k, t) -> c.put(k, new Tensor(t.data().clone(), t.shape())));
        return c;
    }

    static Batch batch(int[] labels) {
        int[] ids = {2, 5, 5, 7, 3, 2, 9, 3, 2, 12, 22, 3, 0, 0, 2, 8, 8, 3, 0, 0, 0};
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0};
        int[] types = new int[21];
        for (int i = 4; i < 7; i++) types[i] = 1;
        return new Batch(3, 7, ids, types, mask, labels);
    }

    @Test
    void forwardMatchesCpu() {
        BertConfig c = config();
        Map<String, Tensor> w = weights(BertModel.of(c, Map.of(), 1).parameters(), 11);
        BertModel cpu = BertModel.of(c, copy(w), 1), gpuModel = BertModel.of(c, copy(w), 1).to(gpu());
        Batch b = batch(null);
        for (boolean extras : new boolean[] {false, true}) {
            BertModelOutput oc = cpu.forward(b.inputIds(), b.tokenTypeIds(), b.attentionMask(), 3, 7, extras, extras);
            BertModelOutput og = gpuModel.forward(b.inputIds(), b.tokenTypeIds(), b.attentionMask(), 3, 7, extras, extras);
            assertClose("last_hidden_state", oc.lastHiddenState().data(), og.lastHiddenState().data(), MODEL_TOL);
            assertClose("pooler_output", oc.poolerOutput().data(), og.poolerOutput().data(), MODEL_TOL);
            assertEquals(oc.hiddenStates().size(), og.hiddenStates().size());
            for (int i = 0; i < oc.hiddenStates().size(); i++) {
                assertClose("hidden_states " + i, oc.hiddenStates().get(i).data(), og.hiddenStates().get(i).data(), MODEL_TOL);
            }
            for (int i = 0; i < oc.attentions().size(); i++) {
                assertClose("attentions " + i, oc.attentions().get(i).data(), og.attentions().get(i).data(), MODEL_TOL);
            }
        }
    }

    @Test
    void trainingStepGradientsAndUpdatedWeightsMatchCpu() {
        BertConfig c = config().withLabels(List.of("a", "b", "c"));
        Map<String, Tensor> w = weights(BertForSequenceClassification.of(c, Map.of(), 3, 1).parameters(), 12);
        Map<String, Tensor> stripped = new LinkedHashMap<>();
        w.forEach((k, t) -> stripped.put(k.startsWith("bert.") ? k.substring(5) : k, t));
        BertForSequenceClassification cpu = BertForSequenceClassification.of(c, copy(stripped), 3, 1);
        BertForSequenceClassification gm = BertForSequenceClassification.of(c, copy(stripped), 3, 1).to(gpu());
        Batch b = batch(new int[] {2, 0, 1});
        TrainMode mode = new TrainMode(42, 3, true);
        Gradients gc = new Gradients(), gg = new Gradients(gm.bert().backend());
        ClassifierOutput oc = cpu.trainStep(b, mode, gc), og = gm.trainStep(b, mode, gg);
        assertClose("logits", oc.logits().data(), og.logits().data(), MODEL_TOL);
        assertEquals(oc.loss(), og.loss(), ErrorBounds.loss(oc.logits().data(), og.logits().data(), 3), "loss (dropout on, the same masks)");
        assertEquals(gc.asMap().keySet(), gg.asMap().keySet(), "the same gradients exist");
        for (String name : gc.asMap().keySet()) assertClose("gradient " + name, gc.get(name), gg.get(name), MODEL_TOL);

        // | ||a|| - ||b|| | ≤ ||a - b|| (triangle inequality), plus the GPU's sums of squares (blocks of 256
        // in float: gamma(256) relative on the square, half that on the norm).
        double diff = 0;
        for (String name : gc.asMap().keySet()) {
            float[] a = gc.get(name), x = gg.get(name);
            for (int i = 0; i < a.length; i++) diff += (double) (a[i] - x[i]) * (a[i] - x[i]);
        }
        double nc = GradClip.clipGlobalNorm(gc, 1.0), ng = GradClip.clipGlobalNorm(gg, 1.0);
        assertEquals(nc, ng, Math.sqrt(diff) + ErrorBounds.gamma(256) * nc, "gradient norm");
        AdamW ac = new AdamW(cpu.parameters(), 0.01, AdamW.hfNoDecay());
        AdamW ag = new AdamW(gm.parameters(), 0.01, AdamW.hfNoDecay(), gm.bert().backend());
        double lr = 1e-3;
        ac.step(gc, lr);
        ag.step(gg, lr);
        Map<String, Tensor> pc = cpu.parameters(), pg = gm.parameters();
        // AdamW's first step moves each weight by lr g / (|g| + eps) (bias corrections cancel), at most lr in
        // size whatever the gradient, so the weights differ by at most 2 lr, reached where a gradient near
        // zero differs in sign; the decayed weight rounds identically on both sides, and the subtraction's
        // rounding (4U of weights below 2) and the step's own (8U lr) stay under 1e-6.
        for (String name : pc.keySet()) assertClose("updated " + name, pc.get(name).data(), pg.get(name).data(), (float) (2 * lr + 1e-6));
        assertEquals(ac.state().keySet(), ag.state().keySet());
    }

    @Test
    void customHeadTrainingStepMatchesCpu() {
        BertConfig c = config().with("ff_output_dim", 16L).with("n_classes", 2L).with("ff_dropout", 0.1).with("cls_only", false)
                .with("average_all", true).with("pooler", false);
        BertModel shape = BertModel.of(c, Map.of(), 1);
        Map<String, Tensor> w = weights(BertClassifier.of(shape, Map.of(), 1).parameters(), 13);
        BertClassifier cpu = BertClassifier.of(BertModel.of(c, copy(w), 1), copy(w), 1);
        BertClassifier gm = BertClassifier.of(BertModel.of(c, copy(w), 1), copy(w), 1).to(gpu());
        Batch b = batch(new int[] {1, 0, 1});
        TrainMode mode = new TrainMode(5, 0, true);
        Gradients gc = new Gradients(), gg = new Gradients(gpu());
        ClassifierOutput oc = cpu.trainStep(b, mode, gc), og = gm.trainStep(b, mode, gg);
        assertClose("logits", oc.logits().data(), og.logits().data(), MODEL_TOL);
        assertEquals(oc.loss(), og.loss(), ErrorBounds.loss(oc.logits().data(), og.logits().data(), 2), "loss");
        for (String name : gc.asMap().keySet()) assertClose("gradient " + name, gc.get(name), gg.get(name), MODEL_TOL);
        assertClose("inference logits", cpu.forward(b).logits().data(), gm.forward(b).logits().data(), MODEL_TOL);
    }

    @Test
    void trainingStepsReuseDeviceMemory() {
        BertConfig c = config().withLabels(List.of("a", "b"));
        BertForSequenceClassification gm = BertForSequenceClassification.of(c, Map.of(), 2, 1).to(gpu());
        Gradients g = new Gradients(gpu());
        AdamW opt = new AdamW(gm.parameters(), 0.01, AdamW.hfNoDecay(), gpu());
        long[] inUse = new long[6], deviceWide = new long[6];
        for (int step = 0; step < 6; step++) {
            gm.trainStep(batch(new int[] {1, 0, 1}), new TrainMode(1, step, true), g);
            opt.step(g, 1e-3);
            g.zero();
            gm.forward(batch(null));
            inUse[step] = liveAllocations();
            deviceWide[step] = deviceBytesInUse();
        }
        // Steps 1 and 2 warm up (arenas grow to the step's size, optimizer state appears); after them
        // nothing of bertj's may be allocated per step: exact.
        assertEquals(inUse[2], inUse[5], "live device allocations after steps 3..6 (a leak grows them every step)");
        // The device-wide figure also sees what bertj does not count (cuBLAS handles and workspaces, loaded
        // modules: MiBs each), but the driver serves small cudaMallocs from 2 MiB pools it grows and keeps,
        // so it is compared after warm-up with a slack of one such 2 MiB pool.
        if (deviceWide[2] >= 0) {
            assertTrue(deviceWide[5] - deviceWide[2] <= DRIVER_POOL, "device memory in use grew by " + (deviceWide[5] - deviceWide[2])
                    + " bytes over steps 3..6 (more than one 2 MiB driver pool)");
        }
    }

    @Test
    void shortFineTuneReachesTheCpusAccuracy() throws Exception {
        List<String> words = List.of("apple", "pear", "plum", "fig", "car", "bus", "train", "bike");
        List<String> tokens = new java.util.ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        tokens.addAll(words);
        BertTokenizer tok = BertTokenizer.builder().tokens(tokens).build();
        java.util.function.LongFunction<List<Trainer.Example>> data = seed -> {
            java.util.Random r = new java.util.Random(seed);
            List<Trainer.Example> out = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int label = r.nextInt(2);
                StringBuilder sb = new StringBuilder();
                for (int k = 0, len = 3 + r.nextInt(6); k < len; k++) sb.append(words.get(label * 4 + r.nextInt(4))).append(' ');
                out.add(new Trainer.Example(sb.toString(), null, label));
            }
            return out;
        };
        BertConfig c = BertConfig.of(Map.of("vocab_size", 13L, "hidden_size", 16L, "num_hidden_layers", 2L,
                "num_attention_heads", 2L, "intermediate_size", 24L, "max_position_embeddings", 16L));
        Trainer.Settings settings = new Trainer.Settings(3, 0, 8, 1, 5e-3, 0.1, 0.01, 1.0, 16, 42);
        Trainer cpu = new Trainer(TaskModel.of(BertForSequenceClassification.of(c, Map.of(), 2, 7)), tok, settings, null);
        Trainer gt = new Trainer(TaskModel.of(BertForSequenceClassification.of(c, Map.of(), 2, 7).to(gpu())), tok, settings, null);
        List<Trainer.Example> train = data.apply(1), test = data.apply(2);
        cpu.train(train, null, null);
        gt.train(train, null, null);
        Metrics mc = cpu.evaluate(test), mg = gt.evaluate(test);
        assertTrue(mc.accuracy() > 0.9, "the task is learnt on the CPU: " + mc.accuracy());
        assertEquals(mc.accuracy(), mg.accuracy(), 1e-9, "test accuracy, CPU vs GPU");
        List<Double> lc = cpu.lossCurve(), lg = gt.lossCurve();
        for (int i = 0; i < lc.size(); i++) assertEquals(lc.get(i), lg.get(i), 1e-3, "training loss at step " + (i + 1));
    }

    /** The granule in which the CUDA driver grows its pools for small allocations. */
    static final long DRIVER_POOL = 2L << 20;

    /** Live allocations made through the backend's DeviceApi now (bertj's own count, exact on any device). */
    abstract long liveAllocations();

    /** Device-wide memory in use (cudaMemGetInfo) after the queued work, or -1 where there is no driver to ask. */
    long deviceBytesInUse() {
        return -1;
    }
}
