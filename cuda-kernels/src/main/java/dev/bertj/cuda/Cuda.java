package dev.bertj.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether this machine can run the GPU backend, and why not: the JavaCPP CUDA bindings need the
 * NVIDIA driver and the CUDA 13 runtime, NVRTC and cuBLAS libraries. Asked once per JVM; never throws.
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

    /**
     * Loads the three bindings the backend calls, in the order they depend on each other, so that a
     * missing library is a skip with its name here rather than an UnsatisfiedLinkError (an Error) when
     * the backend opens: cudart (the runtime and, through it, the driver), NVRTC (kernels compiled at run
     * time) and cuBLAS (with cuBLASLt).
     */
    private static Status probe() {
        String[][] bindings = {
            {"org.bytedeco.cuda.global.cudart", "the NVIDIA driver (libcuda.so.1) and the CUDA 13 runtime (libcudart.so.13)"},
            {"org.bytedeco.cuda.global.nvrtc", "NVRTC 13 (libnvrtc.so.13, with libnvrtc-builtins)"},
            {"org.bytedeco.cuda.global.cublas", "cuBLAS 13 (libcublas.so.13 and libcublasLt.so.13)"},
        };
        for (String[] b : bindings) {
            try {
                Loader.load(Class.forName(b[0], false, Cuda.class.getClassLoader()));
            } catch (Throwable e) {
                return new Status(false, "no CUDA: " + unloadable(e, b[1]) + "; install the NVIDIA driver and CUDA 13 (or its pip"
                        + " wheels, with their lib folder on LD_LIBRARY_PATH), or build with -Pcuda-redist for the CUDA libraries", 0);
            }
        }
        int[] count = {0};
        int rc = cudart.cudaGetDeviceCount(count);
        if (rc != 0) return new Status(false, "no CUDA device: cudaGetDeviceCount says " + error(rc), 0);
        if (count[0] == 0) return new Status(false, "no CUDA device: the driver loaded but reports no GPU", 0);
        return new Status(true, "", count[0]);
    }

    private static final Pattern MISSING = Pattern.compile("([A-Za-z0-9_.+-]+\\.so[0-9.]*): cannot open shared object file");

    /**
     * What could not be loaded, naming the library: the dynamic linker's "libX.so.N: cannot open shared
     * object file" sits in a cause of JavaCPP's error, whose own first line ("no jnicudart in
     * java.library.path") names only JavaCPP's glue. {@code expected} says which libraries the binding needs.
     */
    static String unloadable(Throwable e, String expected) {
        String first = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String msg = String.valueOf(t.getMessage());
            Matcher m = MISSING.matcher(msg);
            if (m.find()) return m.group(1) + " could not be loaded (needed: " + expected + ")";
            if (first == null) first = msg.lines().findFirst().orElse(t.toString());
        }
        return expected + " could not be loaded (" + first + ")";
    }

    /** The runtime's text for an error code. */
    static String error(int rc) {
        try {
            return cudart.cudaGetErrorString(rc).getString() + " (" + rc + ")";
        } catch (Throwable e) {
            return "error " + rc;
        }
    }

    /**
     * The driver's text for a driver-API result (CUresult, whose codes differ from the runtime's
     * cudaError_t: 200 is CUDA_ERROR_INVALID_IMAGE there and an unrelated code here).
     */
    static String driverError(int rc) {
        try (PointerPointer<BytePointer> text = new PointerPointer<>(1L)) {
            if (cudart.cuGetErrorString(rc, text) == 0 && text.get(0) != null) return text.getString(0) + " (CUresult " + rc + ")";
        } catch (Throwable e) {
            // fall through to the bare code
        }
        return "CUresult " + rc;
    }

    /** Throws with the driver's message when a driver-API call's {@code rc} is not CUDA_SUCCESS. */
    static void checkDriver(int rc, String what) {
        if (rc != 0) throw new IllegalStateException("CUDA driver: " + what + " failed: " + driverError(rc));
    }

    /** Prints the status (device run scripts log it before the tests): "CUDA: N device(s)" or the reason. */
    public static void main(String[] args) {
        Status s = status();
        System.out.println(s.available() ? "CUDA: " + s.devices() + " device(s)" : s.reason());
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
