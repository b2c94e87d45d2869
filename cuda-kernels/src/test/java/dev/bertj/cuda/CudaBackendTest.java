package dev.bertj.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link BackendParityTests} on a real CUDA device at fp32; skipped, with the reason, where there is none. */
class CudaBackendTest extends BackendParityTests {
    @BeforeEach
    void needsDevice() {
        Cuda.Status s = Cuda.status();
        assumeTrue(s.available(), s.reason());
    }

    @Override
    CudaBackend backend() {
        return CudaBackend.open(0, Precision.FP32);
    }

    @Override
    long bytesInUse() {
        gpu().synchronize();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            Cuda.check(cudart.cudaMemGetInfo(free, total), "reading device memory use");
            return total.get() - free.get();
        }
    }
}
