package dev.bertj.nn;

import dev.bertj.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gradients of parameters by checkpoint name, allocated (as zeros) on first use and accumulated
 * into by each layer's backward.
 */
public final class Gradients {
    private final Map<String, float[]> grads;
    private final String prefix;

    /** An empty set of gradients. */
    public Gradients() {
        this(new LinkedHashMap<>(), "");
    }

    private Gradients(Map<String, float[]> grads, String prefix) {
        this.grads = grads;
        this.prefix = prefix;
    }

    /**
     * A view that stores under {@code prefix + name}: a task model hands its encoder
     * {@code view("bert.")} so gradients carry checkpoint names.
     */
    public Gradients view(String prefix) {
        return new Gradients(grads, this.prefix + prefix);
    }

    /** The gradient array for parameter {@code name} of {@code size} values (zeros when new). */
    public float[] of(String name, int size) {
        float[] g = grads.computeIfAbsent(prefix + name, n -> new float[size]);
        if (g.length != size) throw new IllegalStateException("gradient " + name + " has " + g.length + " values, not " + size);
        return g;
    }

    /** The gradient array for this parameter tensor. */
    public float[] of(String name, Tensor param) {
        return of(name, param.size());
    }

    /** Every gradient, in the order first touched. */
    public Map<String, float[]> asMap() {
        return grads;
    }

    /** The gradient of {@code name}, or null when backward never reached it. */
    public float[] get(String name) {
        return grads.get(prefix + name);
    }

    /** Sets every gradient to zero, keeping the arrays (no allocation per step). */
    public void zero() {
        for (float[] g : grads.values()) java.util.Arrays.fill(g, 0f);
    }
}
