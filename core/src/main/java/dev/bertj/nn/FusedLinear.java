package dev.bertj.nn;

import java.util.List;

/**
 * Several Linear layers on the same input computed as one: {@code y = x [W_1; W_2; ...]^T + [b_1; ...]},
 * the parts' outputs side by side in each row (attention's q|k|v from a single GEMM). The parts
 * stay separate parameters; a backend keeps whatever combined copy it needs in {@link #cache}.
 */
public final class FusedLinear {
    private final List<Linear> parts;
    private final int in;
    private final int out;
    private volatile Object cache;

    /** @param parts layers with the same input size */
    public FusedLinear(List<Linear> parts) {
        this.parts = List.copyOf(parts);
        int o = 0;
        for (Linear l : this.parts) {
            if (l.in() != this.parts.get(0).in()) throw new IllegalArgumentException("fused Linear parts differ in input size");
            o += l.out();
        }
        this.in = this.parts.get(0).in();
        this.out = o;
    }

    /** The layers, in output order. */
    public List<Linear> parts() {
        return parts;
    }

    /** Input size. */
    public int in() {
        return in;
    }

    /** Total output size. */
    public int out() {
        return out;
    }

    /** A backend's combined copy (opaque here), or null. */
    public Object cache() {
        return cache;
    }

    /** Sets the backend's combined copy. */
    public void cache(Object c) {
        cache = c;
    }

    /** A version that moves whenever any part's weight or bias changes in place. */
    public int version() {
        int v = 0;
        for (Linear l : parts) v = 31 * (31 * v + l.weight().version()) + (l.bias() == null ? 0 : l.bias().version());
        return v;
    }
}
