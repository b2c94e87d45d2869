package dev.bertj.cpu;

import dev.bertj.backend.Backend;
import dev.bertj.backend.BackendProvider;
import dev.bertj.backend.Device;

/** Makes the CPU backend findable by {@link dev.bertj.backend.Backends} like any other, so that package never names this one. */
public final class CpuBackendProvider implements BackendProvider {
    /** For ServiceLoader. */
    public CpuBackendProvider() { }

    @Override public Device.Kind kind() { return Device.Kind.CPU; }
    @Override public String unavailableReason(Device device) { return null; }
    @Override public Backend open(Device device) { return CpuBackend.get(); }
}
