package dev.bertj.cli;

import dev.bertj.backend.Backends;
import dev.bertj.backend.Device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options: {@code --name value}, {@code --name=value} and boolean {@code --flag}.
 * Every option a command reads must be declared, so a typo is an error, not a silent default.
 */
final class Args {
    private final String command;
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /** Thrown for a bad command line; the message is shown to the user as is. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /**
     * @param withValue options that take a value
     * @param flags options that take none
     */
    Args(String command, String[] argv, Set<String> withValue, Set<String> flags) {
        this.command = command;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) throw new UsageException(command + ": --" + name + " takes no value");
                values.put(name, "true");
            } else if (withValue.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.length) throw new UsageException(command + ": --" + name + " needs a value");
                    value = argv[++i];
                }
                values.put(name, value);
            } else {
                throw new UsageException(command + ": unknown option --" + name + " (see ./bertj " + command + " --help)");
            }
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name) {
        return values.get(name);
    }

    String require(String name) {
        String v = values.get(name);
        if (v == null) throw new UsageException(command + ": --" + name + " is required (see ./bertj " + command + " --help)");
        return v;
    }

    int intValue(String name, int dflt, int min) {
        String v = values.get(name);
        if (v == null) return dflt;
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be a whole number, got '" + v + "'");
        }
        if (n < min) throw new UsageException(command + ": --" + name + " must be at least " + min + ", got " + n);
        return n;
    }

    /** The options every model-running command takes: {@code --device cpu|cuda|cuda:N} and the GPU's {@code --precision}. */
    static final Set<String> DEVICE_OPTIONS = Set.of("device", "precision");

    /** The options in {@code base} and {@link #DEVICE_OPTIONS}. */
    static Set<String> withDevice(Set<String> base) {
        Set<String> s = new java.util.HashSet<>(base);
        s.addAll(DEVICE_OPTIONS);
        return s;
    }

    /**
     * {@code --device} (default cpu), checked now so that a missing GPU fails in one sentence before
     * any work; {@code --precision fp32|tf32|bf16} picks the GPU's GEMM arithmetic.
     */
    Device device() {
        Device d;
        try {
            d = Device.parse(has("device") ? get("device") : "cpu");
        } catch (IllegalArgumentException e) {
            throw new UsageException(command + ": --device: " + e.getMessage());
        }
        if (has("precision")) {
            if (d.kind() == Device.Kind.CPU) throw new UsageException(command + ": --precision applies to --device cuda only (the CPU computes in float32)");
            System.setProperty("bertj.cuda.precision", get("precision"));
        }
        Backends.of(d);
        return d;
    }

    List<String> positional() {
        return positional;
    }
}
