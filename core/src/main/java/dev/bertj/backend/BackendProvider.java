package dev.bertj.backend;

/**
 * Service interface through which a backend outside bertj-core (bertj-cuda) is found with
 * {@link java.util.ServiceLoader}: core has no dependency on it, and without it on the class path
 * everything runs on the CPU.
 */
public interface BackendProvider {
    /** The device family this provider serves. */
    Device.Kind kind();

    /** Null when {@code device} can be opened here, else one sentence saying what is missing. */
    String unavailableReason(Device device);

    /** Opens the backend for {@code device} (call only when {@link #unavailableReason} is null). */
    Backend open(Device device);
}
