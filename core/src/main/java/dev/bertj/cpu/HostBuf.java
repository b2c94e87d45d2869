package dev.bertj.cpu;

import dev.bertj.backend.Buf;

/** A {@link Buf} in host memory: the CPU backend's buffers, and how tests hand arrays to it. */
public record HostBuf(float[] array) implements Buf {
    @Override
    public int size() {
        return array.length;
    }

    /** The array behind a CPU buffer (null for null). */
    public static float[] of(Buf b) {
        return b == null ? null : ((HostBuf) b).array;
    }
}
