package dev.bertj.nn;

import java.util.List;

/**
 * Several Linear layers on the same input computed as one: {@code y = x [W_1; W_2; ...]^T + [b_1; ...]},
 * the parts' outputs side by side in each row (attention's q|k|v from a single GEMM). The parts stay
 * separate parameters; a backend keeps whatever combined copy it needs, keyed by the parts' identity.
 *
 * @param parts layers with the same input size, in output order
 */
public record FusedLinear(List<Linear> parts) {
    /** Checks that the parts share an input size. */
    public FusedLinear {
        parts = List.copyOf(parts);
        if (parts.isEmpty()) throw new IllegalArgumentException("a fused Linear needs at least one part");
        for (Linear l : parts) if (l.in() != parts.get(0).in()) throw new IllegalArgumentException("fused Linear parts differ in input size");
    }

    /** Input size. */
    public int in() {
        return parts.get(0).in();
    }

    /** Total output size. */
    public int out() {
        int o = 0;
        for (Linear l : parts) o += l.out();
        return o;
    }
}
