package dev.bertj.cuda;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.cuda.global.cudart;

/**
 * Whether this machine can run the GPU backend, and why not: the JavaCPP CUDA bindings need the
 * NVIDIA driver and the CUDA 13 runtime libraries. Asked once per JVM; never throws.
 */
public final class Cuda {
    /** The answer: {@code available}, or the one sentence saying what is missing. */
    public record Status(boolean available, String reason, int devices) { }

    private static volatile Status status;

    private Cuda() { }

    /** Loads the bindings and counts devices (once). */
    public static Status status() {
        Status s = status;
        if (s == null) status = s = probe();
        return s;
    }

    private static Status probe() {
        try {
            Loader.load(cudart.class);
        } catch (Throwable e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
            return new Status(false, "no CUDA: the CUDA 13 runtime or the NVIDIA driver could not be loaded (" + why
                    + "); install them, or build with -Pcuda-redist for the runtime libraries", 0);
        }
        int[] count = {0};
        int rc = cudart.cudaGetDeviceCount(count);
        if (rc != 0) return new Status(false, "no CUDA device: cudaGetDeviceCount says " + error(rc), 0);
        if (count[0] == 0) return new Status(false, "no CUDA device: the driver loaded but reports no GPU", 0);
        return new Status(true, "", count[0]);
    }

    /** The runtime's text for an error code. */
    static String error(int rc) {
        try {
            return cudart.cudaGetErrorString(rc).getString() + " (" + rc + ")";
        } catch (Throwable e) {
            return "error " + rc;
        }
    }

    /** Throws with the runtime's message when {@code rc} is not success. */
    static void check(int rc, String what) {
        if (rc != 0) throw new IllegalStateException("CUDA: " + what + " failed: " + error(rc));
    }

    /** Selects {@code device} on this thread and returns its compute capability as e.g. 90. */
    static int use(int device) {
        Status s = status();
        if (!s.available()) throw new IllegalStateException(s.reason());
        check(cudart.cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        // Makes the runtime create the primary context now, so the driver API calls below find it.
        check(cudart.cudaFree(new Pointer()), "initialising the context");
        int[] major = {0}, minor = {0};
        check(cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, device), "reading the compute capability");
        check(cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, device), "reading the compute capability");
        return major[0] * 10 + minor[0];
    }
}
