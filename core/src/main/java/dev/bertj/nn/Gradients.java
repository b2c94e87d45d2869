package dev.bertj.nn;

import dev.bertj.backend.Backend;
import dev.bertj.backend.Backends;
import dev.bertj.backend.Buf;
import dev.bertj.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gradients of parameters by checkpoint name, on a backend's device: allocated (as zeros) on first
 * use and accumulated into by each layer's backward.
 */
public final class Gradients {
    private final Backend backend;
    private final Map<String, Buf> grads;
    private final String prefix;

    /** An empty set of gradients on the CPU. */
    public Gradients() {
        this(Backends.cpu());
    }

    /** An empty set of gradients on {@code backend}'s device. */
    public Gradients(Backend backend) {
        this(backend, new LinkedHashMap<>(), "");
    }

    private Gradients(Backend backend, Map<String, Buf> grads, String prefix) {
        this.backend = backend;
        this.grads = grads;
        this.prefix = prefix;
    }

    /** The backend the gradients live on. */
    public Backend backend() {
        return backend;
    }

    /**
     * A view that stores under {@code prefix + name}: a task model hands its encoder
     * {@code view("bert.")} so gradients carry checkpoint names.
     */
    public Gradients view(String prefix) {
        return new Gradients(backend, grads, this.prefix + prefix);
    }

    /** The gradient buffer for parameter {@code name} of {@code size} values (zeros when new). */
    public Buf of(String name, int size) {
        Buf g = grads.computeIfAbsent(prefix + name, n -> backend.gradient(size));
        if (g.size() != size) throw new IllegalStateException("gradient " + name + " has " + g.size() + " values, not " + size);
        return g;
    }

    /** The gradient buffer for this parameter tensor. */
    public Buf of(String name, Tensor param) {
        return of(name, param.size());
    }

    /** Every gradient buffer, in the order first touched. */
    public Map<String, Buf> buffers() {
        return grads;
    }

    /**
     * Every gradient as a host array, in the order first touched: on the CPU the live arrays, on
     * another device copies.
     */
    public Map<String, float[]> asMap() {
        Map<String, float[]> out = new LinkedHashMap<>();
        grads.forEach((k, v) -> out.put(k, host(v)));
        return out;
    }

    /** The gradient of {@code name} as a host array (live on the CPU, a copy elsewhere), or null when backward never reached it. */
    public float[] get(String name) {
        Buf b = grads.get(prefix + name);
        return b == null ? null : host(b);
    }

    private float[] host(Buf b) {
        float[] a = backend.hostArray(b);
        return a != null ? a : backend.download(b, new float[b.size()]);
    }

    /** Divides every gradient by {@code d} (averaging over gradient-accumulation micro-batches). */
    public void divide(float d) {
        for (Buf g : grads.values()) backend.divide(g, g.size(), d);
    }

    /** Sets every gradient to zero, keeping the buffers (no allocation per step). */
    public void zero() {
        for (Buf g : grads.values()) backend.zero(g, g.size());
    }
}
