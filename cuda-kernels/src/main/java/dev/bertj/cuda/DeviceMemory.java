package dev.bertj.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One device allocation, freed by {@link #close} (so try-with-resources or an owner's close keeps
 * device memory from leaking across steps). Copies are synchronous.
 */
public final class DeviceMemory implements AutoCloseable {
    private final Pointer ptr = new Pointer();
    private final long bytes;
    private boolean closed;

    /** {@code bytes} of device memory (contents undefined). */
    public DeviceMemory(long bytes) {
        this.bytes = bytes;
        Cuda.check(cudart.cudaMalloc(ptr, Math.max(1, bytes)), "cudaMalloc(" + bytes + " bytes)");
    }

    /** A device copy of {@code a}. */
    public static DeviceMemory of(float[] a) {
        DeviceMemory m = new DeviceMemory(4L * a.length);
        try (FloatPointer host = new FloatPointer(a)) {
            Cuda.check(cudart.cudaMemcpy(m.ptr, host, 4L * a.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
        return m;
    }

    /** A device copy of {@code a}. */
    public static DeviceMemory of(int[] a) {
        DeviceMemory m = new DeviceMemory(4L * a.length);
        try (IntPointer host = new IntPointer(a)) {
            Cuda.check(cudart.cudaMemcpy(m.ptr, host, 4L * a.length, cudart.cudaMemcpyHostToDevice), "copying to the device");
        }
        return m;
    }

    /** Copies the first {@code out.length} floats back. */
    public float[] toHost(float[] out) {
        try (FloatPointer host = new FloatPointer(out.length)) {
            Cuda.check(cudart.cudaMemcpy(host, ptr, 4L * out.length, cudart.cudaMemcpyDeviceToHost), "copying to the host");
            host.get(out);
        }
        return out;
    }

    /** Copies the first {@code out.length} bytes back. */
    public byte[] toHost(byte[] out) {
        try (BytePointer host = new BytePointer(out.length)) {
            Cuda.check(cudart.cudaMemcpy(host, ptr, out.length, cudart.cudaMemcpyDeviceToHost), "copying to the host");
            host.get(out);
        }
        return out;
    }

    /** A JavaCPP pointer to device address {@code address} (for cuBLAS and copies at an offset). */
    static Pointer at(long address) {
        return new Pointer() {
            {
                this.address = address;
            }
        };
    }

    /** The device address, as a kernel argument takes it. */
    public long address() {
        if (closed) throw new IllegalStateException("device memory used after close");
        return ptr.address();
    }

    /** Size in bytes. */
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cudart.cudaFree(ptr);
    }
}
