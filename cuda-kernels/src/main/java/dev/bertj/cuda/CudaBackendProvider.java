package dev.bertj.cuda;

import dev.bertj.backend.Backend;
import dev.bertj.backend.BackendProvider;
import dev.bertj.backend.Device;

/**
 * Registers {@link CudaBackend} with bertj-core's {@link dev.bertj.backend.Backends} (through
 * META-INF/services). The GEMM precision comes from {@code -Dbertj.cuda.precision=fp32|tf32|bf16}
 * (default fp32, the parity setting).
 */
public final class CudaBackendProvider implements BackendProvider {
    @Override
    public Device.Kind kind() {
        return Device.Kind.CUDA;
    }

    @Override
    public String unavailableReason(Device device) {
        Cuda.Status s = Cuda.status();
        if (!s.available()) return s.reason();
        if (device.index() >= s.devices()) return "there is no CUDA device " + device.index() + " (this machine has " + s.devices() + ")";
        return null;
    }

    @Override
    public Backend open(Device device) {
        return CudaBackend.open(device.index(), Precision.parse(System.getProperty("bertj.cuda.precision", "fp32")));
    }
}
