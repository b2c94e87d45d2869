package dev.bertj.cuda;

import dev.bertj.backend.Device;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.junit.jupiter.api.BeforeEach;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link BackendParityTests} on a real CUDA device at fp32; skipped, with the reason, where there is none. */
class CudaBackendTest extends BackendParityTests {
    private CudaDevice device;

    @BeforeEach
    void needsDevice() {
        Cuda.Status s = Cuda.status();
        assumeTrue(s.available(), s.reason());
    }

    /** As CudaBackend.open(0, FP32), keeping the device for its allocation count. */
    @Override
    CudaBackend backend() {
        device = new CudaDevice(0, Precision.FP32, Path.of(System.getProperty("user.home"), ".cache", "bertj", "cuda"));
        return new CudaBackend(Device.cuda(0), Precision.FP32, device);
    }

    @Override
    long liveAllocations() {
        return device.liveAllocations();
    }

    @Override
    long deviceBytesInUse() {
        gpu().synchronize();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            Cuda.check(cudart.cudaMemGetInfo(free, total), "reading device memory use");
            return total.get() - free.get();
        }
    }
}
