package dev.bertj.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The sentence {@link Cuda#status()} gives when CUDA cannot be used: it names the missing library. */
class CudaStatusTest {
    @Test
    void theMissingLibraryIsTakenFromTheLinkersMessageInACause() {
        // The shape of JavaCPP's error on a machine without the driver (seen on a CPU-only machine).
        UnsatisfiedLinkError cause = new UnsatisfiedLinkError("/home/u/.javacpp/cache/cuda-13.1-9.19-1.5.13-linux-x86_64.jar/org/bytedeco/cuda/"
                + "linux-x86_64/libjnicublas.so: libcublasLt.so.13: cannot open shared object file: No such file or directory");
        UnsatisfiedLinkError outer = new UnsatisfiedLinkError("no jnicublas in java.library.path: /usr/lib64:/lib64:/lib:/usr/lib");
        outer.initCause(cause);
        assertEquals("libcublasLt.so.13 could not be loaded (needed: cuBLAS 13)", Cuda.unloadable(outer, "cuBLAS 13"));
    }

    @Test
    void withoutALinkerMessageTheFirstLineOfTheErrorIsGiven() {
        Throwable e = new UnsatisfiedLinkError("no jnijavacpp in java.library.path\nsecond line");
        assertEquals("NVRTC 13 could not be loaded (no jnijavacpp in java.library.path)", Cuda.unloadable(e, "NVRTC 13"));
    }

    @Test
    void onThisMachineTheReasonSaysWhatIsMissing() {
        Cuda.Status s = Cuda.status();
        assumeFalse(s.available(), "CUDA is available here");
        assertEquals(0, s.devices());
        assertTrue(s.reason().matches("no CUDA: lib[A-Za-z0-9_]+\\.so[0-9.]* could not be loaded \\(needed: .*"
                + "|no CUDA device: .*"), s.reason());
    }
}
