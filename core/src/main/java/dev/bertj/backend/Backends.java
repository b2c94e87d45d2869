package dev.bertj.backend;

import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Finds the backend for a {@link Device} through {@link BackendProvider}s: the CPU's is in bertj-core
 * ({@code dev.bertj.cpu}), others come from the class or module path (bertj-cuda). Looking them up
 * here, rather than naming the CPU backend, keeps this package below every backend. One backend per
 * device per JVM.
 */
public final class Backends {
    private static final Map<Device, Backend> OPEN = new HashMap<>();
    private static volatile Backend cpu;

    private Backends() { }

    /** The CPU backend. */
    public static Backend cpu() {
        Backend b = cpu;
        if (b == null) b = cpu = of(Device.cpu());
        return b;
    }

    /**
     * The backend for {@code device}, opened on first use.
     *
     * @throws IllegalStateException with one sentence saying what is missing when it cannot run here
     */
    public static synchronized Backend of(Device device) {
        Backend b = OPEN.get(device);
        if (b != null) return b;
        BackendProvider provider = null;
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            if (p.kind() == device.kind()) provider = p;
        }
        if (provider == null && device.kind() == Device.Kind.CPU) {
            // Also look where the caller's loader sees (a class path that holds bertj-core's jar twice, say).
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) if (p.kind() == Device.Kind.CPU) provider = p;
        }
        if (provider == null) {
            if (device.kind() == Device.Kind.CPU) throw new IllegalStateException("bertj-core's CPU backend provider was not found: META-INF/services or module-info is missing from the jar");
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
        OPEN.entrySet().removeIf(e -> {
            if (e.getKey().kind() == Device.Kind.CPU) return false;
            e.getValue().close();
            return true;
        });
    }
}
