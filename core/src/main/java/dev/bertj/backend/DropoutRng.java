package dev.bertj.backend;

/**
 * The dropout generator every backend shares, so a seed gives the same masks on the CPU and on a GPU
 * and for any thread count: whether element {@code i} of dropout site {@code site} is kept depends
 * only on (seed, site, i), through a counter-based SplitMix64 hash.
 * <pre>
 * base  = mix(seed ^ mix(site * golden))
 * u_i   = top 24 bits of mix(base + i * golden) / 2^24        uniform in [0, 1)
 * keep_i = u_i >= p;      forward y = x * keep / (1 - p);      backward dx = dy * keep / (1 - p)
 * </pre>
 */
public final class DropoutRng {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private DropoutRng() { }

    /** The generator's start for (seed, site); a GPU kernel takes this and computes {@link #keep} itself. */
    public static long base(long seed, long site) {
        return mix(seed ^ mix(site * GOLDEN));
    }

    /** Whether element {@code i} is kept at drop probability {@code p}, given {@link #base}. */
    public static boolean keep(long base, long i, float p) {
        float u = (mix(base + i * GOLDEN) >>> 40) * 0x1.0p-24f;
        return u >= p;
    }

    /** Checks a drop probability: dropout needs {@code 0 <= p < 1}. */
    public static void checkProbability(float p) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
