package dev.bertj.backend;

/**
 * A float32 buffer on a {@link Backend}'s device: host memory for the CPU, device memory for
 * CUDA. Opaque to model code, which only passes buffers (with offsets) to the backend's ops; a
 * buffer made by one backend is used only with that backend.
 */
public interface Buf {
    /** Number of floats. */
    int size();
}
