package dev.bertj.api;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A {@link PrintStream} whose lines go to a {@link System.Logger}: the conversions print progress
 * lines (the command line shows them on stderr), and a library logs them instead.
 */
final class LoggerStream extends OutputStream {
    private final System.Logger log;
    private final System.Logger.Level level;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private LoggerStream(System.Logger log, System.Logger.Level level) {
        this.log = log;
        this.level = level;
    }

    /** A stream logging each line to {@code log} at INFO. */
    static PrintStream info(System.Logger log) {
        return new PrintStream(new LoggerStream(log, System.Logger.Level.INFO), true, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            log.log(level, line.toString(StandardCharsets.UTF_8));
            line.reset();
        } else {
            line.write(b);
        }
    }
}
