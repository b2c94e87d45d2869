package dev.bertj.backend;

/**
 * One device's implementation of everything the model needs, in three parts: {@link Memory} (arenas,
 * parameter copies, transfers), {@link LayerOps} (the layers' arithmetic) and {@link OptimizerOps}.
 * Model code ({@code dev.bertj.model}) calls only these, with {@link Buf} activations, so the CPU
 * ({@code dev.bertj.cpu.CpuBackend}) and CUDA (bertj-cuda) run the same model code; only the kernels
 * differ. Backends are found through {@link Backends}.
 *
 * <p>A backend runs one pass per thread at a time; the CUDA backend runs one pass at a time in all.
 */
public interface Backend extends Memory, LayerOps, OptimizerOps, AutoCloseable {
    /** The device. */
    Device device();

    /** Name for logs and benchmarks (the kernels in use). */
    String name();

    /** Whether this backend runs {@code act}; a model using one it lacks is refused when moved here. */
    default boolean supports(Activation act) {
        return true;
    }

    /** Waits for queued work (a no-op on the CPU); for timing. */
    default void synchronize() { }

    /** Frees what this backend holds on its device (parameter copies, gradients, arenas). */
    @Override
    void close();
}
