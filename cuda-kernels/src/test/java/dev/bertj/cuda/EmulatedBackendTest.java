package dev.bertj.cuda;

import dev.bertj.backend.Device;

/**
 * {@link BackendParityTests} with {@link CudaBackend} on {@link EmulatedDevice}: the GPU backend's Java
 * (addresses, cuBLAS layouts, kernel arguments and grids, buffer lifetimes) against the CPU backend, on
 * every machine. The CUDA C is checked by nvcc in the build and by {@link CudaBackendTest} on a GPU.
 */
class EmulatedBackendTest extends BackendParityTests {
    private EmulatedDevice device;

    @Override
    CudaBackend backend() {
        device = new EmulatedDevice();
        return new CudaBackend(Device.cuda(0), Precision.FP32, device);
    }

    @Override
    long liveAllocations() {
        return device.liveAllocations();
    }
}
