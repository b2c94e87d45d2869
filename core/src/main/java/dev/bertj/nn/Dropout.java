package dev.bertj.nn;

import dev.bertj.cpu.Parallel;

/**
 * Inverted dropout with a counter-based generator: whether element {@code i} of site
 * {@code site} is dropped depends only on (seed, site, i), so masks are the same for any thread
 * count and backward can recompute nothing: it reuses the mask from forward.
 * <pre>
 * forward:  y = x * m / (1 - p),   m ~ Bernoulli(1 - p)
 * backward: dx = dy * m / (1 - p)
 * </pre>
 */
public final class Dropout {
    private Dropout() { }

    /** Applies dropout to {@code x[0, n)} in place and returns the keep mask (null when p == 0). */
    public static boolean[] forward(float[] x, int n, float p, long seed, long site) {
        return forward(x, n, p, seed, site, new boolean[n]);
    }

    /** As {@link #forward(float[], int, float, long, long)}, writing the mask into {@code keep} (at least n long). */
    public static boolean[] forward(float[] x, int n, float p, long seed, long site, boolean[] keep) {
        if (p <= 0f) return null;
        if (p >= 1f) throw new IllegalArgumentException("dropout probability must be < 1, got " + p);
        // Each element's mask depends only on its index, so slices may run on any thread.
        Parallel.forSlices(n, 1 << 16, (s, from, to) -> forwardRange(x, from, to - from, p, seed, site, keep, from));
        return keep;
    }

    /**
     * Dropout on {@code x[xOff, xOff + n)} as elements {@code [first, first + n)} of the site's
     * mask (written to {@code keep[first...]}): one attention head's block of a larger tensor gets
     * exactly the mask {@link #forward} would give it.
     */
    public static void forwardRange(float[] x, int xOff, int n, float p, long seed, long site, boolean[] keep, int first) {
        if (p >= 1f) throw new IllegalArgumentException("dropout probability must be < 1, got " + p);
        float scale = 1f / (1f - p);
        long base = base(seed, site);
        for (int j = 0; j < n; j++) {
            int i = first + j;
            // Top 24 bits of a SplitMix64 hash as a uniform float in [0, 1).
            float u = (mix(base + i * 0x9E3779B97F4A7C15L) >>> 40) * 0x1.0p-24f;
            keep[i] = u >= p;
            x[xOff + j] = keep[i] ? x[xOff + j] * scale : 0f;
        }
    }

    /** The generator's start for (seed, site): element i keeps iff the top 24 bits of mix(base + i * golden) / 2^24 >= p (the GPU kernel takes this). */
    public static long base(long seed, long site) {
        return mix(seed ^ mix(site * 0x9E3779B97F4A7C15L));
    }

    /** {@code dx = dy * keep / (1 - p)} in place on {@code d}. */
    public static void backward(float[] d, int n, float p, boolean[] keep) {
        if (keep == null) return;
        float scale = 1f / (1f - p);
        for (int i = 0; i < n; i++) d[i] = keep[i] ? d[i] * scale : 0f;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
