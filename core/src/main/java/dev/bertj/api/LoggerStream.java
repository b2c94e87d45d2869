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
    private static final java.util.regex.Pattern PROGRESS = java.util.regex.Pattern.compile("^bertj convert: +\\d+%");

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
            String text = line.toString(StandardCharsets.UTF_8);
            // Percentages are for a terminal; a log keeps what was done and where.
            log.log(PROGRESS.matcher(text).find() ? System.Logger.Level.DEBUG : level, text);
            line.reset();
        } else {
            line.write(b);
        }
    }
}
