package dev.bertj.cli;

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

    List<String> positional() {
        return positional;
    }
}
