package dev.bertj.cuda;

import dev.bertj.cpu.ScalarKernels;
import dev.bertj.backend.DropoutRng;
import dev.bertj.backend.Labels;
import dev.bertj.cpu.CpuBackend;
import dev.bertj.cpu.HostBuf;
import dev.bertj.cpu.HostMask;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Each CUDA kernel against the CPU reference (dev.bertj.cpu.ScalarKernels and dev.bertj.nn), each
 * tolerance derived from the operation's error bound ({@link ErrorBounds}) and the kernel's own summation
 * order. Skipped, with the reason, when no CUDA device is present.
 */
class CudaKernelsTest {
    private static int cc;
    private static Path cache;

    @BeforeAll
    static void device() throws Exception {
        Cuda.Status s = Cuda.status();
        if (!s.available()) {
            System.out.println("CudaKernelsTest skipped: " + s.reason());
            return;
        }
        cc = Cuda.use(0);
        cache = Files.createTempDirectory("bertj-ptx");
    }

    @BeforeEach
    void needsDevice() {
        Cuda.Status s = Cuda.status();
        assumeTrue(s.available(), s.reason());
    }

    @AfterAll
    static void cleanup() throws Exception {
        if (cache != null) {
            try (var files = Files.list(cache)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(cache);
        }
    }

    @Test
    void driverErrorsCarryTheDriversText() {
        // cuModuleLoadData on bytes that are no CUBIN: the driver-API error, named by cuGetErrorString.
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new KernelModule("garbage.cu", new byte[64]).close());
        assertTrue(e.getMessage().matches("CUDA driver: loading garbage.cu failed: [a-z].* \\(CUresult [0-9]+\\)"), e.getMessage());
    }

    private static float[] rand(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void layerNormForwardMatchesTheCpu() throws Exception {
        Random r = new Random(1);
        int rows = 7, h = 384;
        float[] x = rand(r, rows * h), res = rand(r, rows * h), g = rand(r, h), b = rand(r, h);
        float[] want = new float[rows * h], xhat = new float[rows * h], rstd = new float[rows];
        ScalarKernels.INSTANCE.layerNorm(x, res, 0, rows, h, g, b, 1e-12f, want, xhat, rstd);
        try (KernelModule m = KernelModule.load("layernorm.cu", cc, cache);
             DeviceMemory dx = DeviceMemory.of(x); DeviceMemory dr = DeviceMemory.of(res); DeviceMemory dg = DeviceMemory.of(g);
             DeviceMemory db = DeviceMemory.of(b); DeviceMemory dy = new DeviceMemory(4L * rows * h)) {
            m.launch("layernorm_forward", rows, 1, 128, dx, dr, dg, db, dy, null, null, h, 1e-12f);
            float[] got = dy.toHost(new float[rows * h]);
            // The kernel's float block sums (block_sum with 128 threads) against the CPU's double ones.
            double[] bound = ErrorBounds.layerNorm(x, res, rows, h, g, b, xhat, rstd, ErrorBounds.blockSumRoundings(h, 128))[0];
            for (int i = 0; i < got.length; i++) assertEquals(want[i], got[i], bound[i], "i=" + i);
        }
    }

    @Test
    void biasGeluMatchesTheCpu() throws Exception {
        int n = 4096, cols = 64;
        float[] x = new float[n], bias = new float[cols];
        for (int i = 0; i < n; i++) x[i] = -8f + 16f * i / n;
        for (int i = 0; i < cols; i++) bias[i] = 0.01f * i;
        float[] want = new float[n];
        for (int i = 0; i < n; i++) want[i] = x[i] + bias[i % cols];
        ScalarKernels.INSTANCE.gelu(want, 0, n);
        try (KernelModule m = KernelModule.load("activations.cu", cc, cache);
             DeviceMemory dx = DeviceMemory.of(x); DeviceMemory db = DeviceMemory.of(bias)) {
            m.launch("bias_gelu_forward", (n + 255) / 256, 1, 256, dx, db, null, (long) n, cols);
            float[] got = dx.toHost(new float[n]);
            // CUDA's erff (<= 2 ulp) against Abramowitz-Stegun (1.5e-7 absolute); x + bias rounds the same on both.
            for (int i = 0; i < n; i++) assertEquals(want[i], got[i], ErrorBounds.gelu(x[i] + bias[i % cols]), "x=" + x[i]);
        }
    }

    @Test
    void dropoutDropsTheSameElementsAsTheCpu() throws Exception {
        int n = 100_003;
        float p = 0.1f;
        long seed = 42, site = 8;
        float[] x = new float[n];
        java.util.Arrays.fill(x, 1f);
        float[] cpu = x.clone();
        boolean[] keep = new boolean[n];
        CpuBackend.get().dropout(new HostBuf(cpu), n, p, seed, site, new HostMask(keep));
        try (KernelModule m = KernelModule.load("activations.cu", cc, cache);
             DeviceMemory dx = DeviceMemory.of(x); DeviceMemory dk = new DeviceMemory(n)) {
            m.launch("dropout_forward", (n + 255) / 256, 1, 256, dx, dk, (long) n, p, DropoutRng.base(seed, site));
            byte[] k = dk.toHost(new byte[n]);
            float[] got = dx.toHost(new float[n]);
            for (int i = 0; i < n; i++) {
                assertEquals(keep[i], k[i] != 0, "i=" + i);
                assertEquals(cpu[i], got[i], 0f, "i=" + i);
            }
        }
    }

    @Test
    void maskedSoftmaxMatchesTheCpu() throws Exception {
        Random r = new Random(3);
        int batch = 2, heads = 3, seq = 37;
        float[] scores = rand(r, batch * heads * seq * seq), mask = new float[batch * seq];
        for (int i = 0; i < mask.length; i++) mask[i] = i % 5 == 4 ? -Float.MAX_VALUE : 0f;
        float[] want = scores.clone();
        for (int bh = 0; bh < batch * heads; bh++) {
            for (int s = 0; s < seq; s++) ScalarKernels.INSTANCE.softmax(want, (bh * seq + s) * seq, seq, 0.125f, mask, (bh / heads) * seq);
        }
        try (KernelModule m = KernelModule.load("attention.cu", cc, cache);
             DeviceMemory ds = DeviceMemory.of(scores); DeviceMemory dm = DeviceMemory.of(mask)) {
            m.launch("masked_softmax_forward", batch * heads, seq, 64, ds, dm, heads, seq, 0.125f);
            float[] got = ds.toHost(new float[scores.length]);
            // Both scale and mask the same scores with the same float operations (dz = 0); then expf and the sum.
            for (int i = 0; i < got.length; i++) assertEquals(want[i], got[i], ErrorBounds.softmax(want[i], seq, 0), "i=" + i);
        }
    }

    @Test
    void crossEntropyMatchesTheCpu() throws Exception {
        Random r = new Random(4);
        int rows = 9, classes = 5;
        float[] logits = rand(r, rows * classes);
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) labels[i] = i == 3 ? Labels.IGNORE_INDEX : r.nextInt(classes);
        float[] wantGrad = new float[rows * classes];
        float wantLoss = CpuBackend.get().crossEntropy(new HostBuf(logits), rows, classes, labels, new HostBuf(wantGrad));
        try (KernelModule m = KernelModule.load("loss.cu", cc, cache);
             DeviceMemory dl = DeviceMemory.of(logits); DeviceMemory dy = DeviceMemory.of(labels);
             DeviceMemory loss = new DeviceMemory(4L * rows); DeviceMemory grad = new DeviceMemory(4L * rows * classes)) {
            m.launch("cross_entropy_forward_backward", rows, 1, 32, dl, dy, loss, grad, classes, rows - 1);
            float[] perRow = loss.toHost(new float[rows]);
            double sum = 0;
            for (float v : perRow) sum += v;
            float big = ErrorBounds.maxAbs(logits);
            assertEquals(wantLoss, (float) (sum / (rows - 1)), ErrorBounds.crossEntropyLoss(big, classes));
            assertArrayEquals(wantGrad, grad.toHost(new float[rows * classes]), (float) ErrorBounds.crossEntropyGradient(big, classes, rows - 1));
        }
    }
}
