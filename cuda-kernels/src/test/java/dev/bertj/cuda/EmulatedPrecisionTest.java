package dev.bertj.cuda;

import dev.bertj.backend.Device;

/** {@link PrecisionTests} on the host emulation, which rounds GEMM inputs as TF32 and bfloat16 do. */
class EmulatedPrecisionTest extends PrecisionTests {
    @Override
    CudaBackend backend(Precision p) {
        return new CudaBackend(Device.cuda(0), p, new EmulatedDevice(p));
    }
}
