package dev.bertj.backend;

import java.util.Locale;

/**
 * Where a model runs: the CPU, or CUDA device {@code index}. Written {@code cpu}, {@code cuda} or
 * {@code cuda:N} on the command line ({@code --device}).
 *
 * @param kind CPU or CUDA
 * @param index the CUDA device number (0 for the CPU)
 */
public record Device(Kind kind, int index) {
    /** The device families bertj has backends for. */
    public enum Kind { CPU, CUDA }

    /** Checks the index. */
    public Device {
        if (kind == null) throw new IllegalArgumentException("device kind is null");
        if (index < 0 || (kind == Kind.CPU && index != 0)) throw new IllegalArgumentException("bad device index " + index + " for " + kind);
    }

    /** The CPU (the default). */
    public static Device cpu() {
        return new Device(Kind.CPU, 0);
    }

    /** CUDA device {@code index}. */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}; the error names what was given. */
    public static Device parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) return cpu();
        if (t.equals("cuda") || t.equals("gpu")) return cuda(0);
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("unknown device '" + text + "': use cpu, cuda or cuda:N");
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
