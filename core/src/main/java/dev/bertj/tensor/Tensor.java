package dev.bertj.tensor;

import java.util.Arrays;

/**
 * A dense float32 tensor: a shape and row-major data. Small on purpose: layers index the
 * {@link #data()} array directly, as the kernels do.
 */
public final class Tensor {
    private final int[] shape;
    private final float[] data;
    private volatile int version;
    /** Set while a device holds a newer copy of the data: fetches it into {@link #data} when read. */
    private volatile Runnable pending;

    /** Wraps {@code data} (not copied) with this shape; the sizes must agree. */
    public Tensor(float[] data, int... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values but data has " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    /** A zero tensor of this shape. */
    public static Tensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
        return new Tensor(new float[(int) n], shape);
    }

    /** Number of elements of a shape; throws on a negative dimension. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        return n;
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return data.length;
    }

    /**
     * The backing array (not a copy): row-major. When the tensor was last changed on a device (an
     * optimizer step on a GPU), the device's values are copied in first.
     */
    public float[] data() {
        Runnable r = pending;
        if (r != null) {
            synchronized (this) {
                r = pending;
                pending = null;
                if (r != null) r.run();
            }
        }
        return data;
    }

    /**
     * Records that a device holds a newer copy: {@code fetch} will copy it into {@link #data()}'s
     * array the next time it is read (a backend's business; model code never calls this).
     */
    public void deviceChanged(Runnable fetch) {
        pending = fetch;
    }

    /**
     * A counter of in-place changes. Whoever writes into {@link #data()} after the tensor is in use
     * (an optimizer step) calls {@link #changed()}, so that caches derived from it, such as a
     * Linear weight packed for the GEMM, are rebuilt.
     */
    public int version() {
        return version;
    }

    /** Records an in-place change of {@link #data()}; see {@link #version()}. */
    public void changed() {
        version++;
    }

    /** Whether the shape equals {@code expected}. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
