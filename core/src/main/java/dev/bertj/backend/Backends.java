package dev.bertj.backend;

import dev.bertj.cpu.CpuBackend;

import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Finds the backend for a {@link Device}: the CPU backend is built in; others come from a
 * {@link BackendProvider} on the class or module path (bertj-cuda). One backend per device per JVM.
 */
public final class Backends {
    private static final Map<Device, Backend> OPEN = new HashMap<>();

    private Backends() { }

    /** The CPU backend. */
    public static Backend cpu() {
        return CpuBackend.get();
    }

    /**
     * The backend for {@code device}, opened on first use.
     *
     * @throws IllegalStateException with one sentence saying what is missing when it cannot run here
     */
    public static synchronized Backend of(Device device) {
        if (device.kind() == Device.Kind.CPU) return cpu();
        Backend b = OPEN.get(device);
        if (b != null) return b;
        BackendProvider provider = null;
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.kind() == device.kind()) provider = p;
        }
        if (provider == null) {
            throw new IllegalStateException("device " + device + " needs the GPU backend bertj-cuda on the class path, and this bertj has only the CPU backend"
                    + " (the ./bertj launcher adds it when run with --device cuda)");
        }
        String why = provider.unavailableReason(device);
        if (why != null) throw new IllegalStateException("cannot use device " + device + ": " + why);
        b = provider.open(device);
        OPEN.put(device, b);
        return b;
    }

    /** Closes every non-CPU backend opened so far (their device memory is freed). */
    public static synchronized void closeAll() {
        for (Backend b : OPEN.values()) b.close();
        OPEN.clear();
    }
}
