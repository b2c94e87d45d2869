package dev.bertj.cpu;

import dev.bertj.backend.Mask;

/** A dropout mask in host memory ({@code true} = kept). */
public record HostMask(boolean[] keep) implements Mask {
    @Override
    public int size() {
        return keep.length;
    }

    /** The flags behind a CPU mask (null for null). */
    public static boolean[] of(Mask m) {
        return m == null ? null : ((HostMask) m).keep;
    }
}
