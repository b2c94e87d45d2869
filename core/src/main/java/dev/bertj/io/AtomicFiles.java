package dev.bertj.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * bertj's one way of writing files so that a reader (or a crash) never sees half of one: binary
 * files ({@link #write}), text ({@link #writeString}) and whole directories ({@link #writeDirectory}).
 *
 * <p>A file is written beside its target under a temporary name, forced to disk, then renamed over
 * the target; on failure the temporary file is deleted and the target is left as it was. A
 * directory is filled under {@code <dir>.tmp-<pid>-<random>}, every file and the directory forced,
 * then swapped in: the existing {@code dir} is renamed to {@code <dir>.old-<pid>-<random>}, the new
 * one to {@code dir}, and the old one deleted. Java has no atomic directory exchange, so after a
 * crash in the instant between the two renames {@code dir} is missing and the previous contents are
 * the complete {@code <dir>.old-*} beside it; a leftover {@code <dir>.tmp-*} is an unfinished write.
 */
public final class AtomicFiles {
    private static final Logger LOG = Logger.getLogger(AtomicFiles.class.getName());

    private AtomicFiles() { }

    /** The body of an atomic file write: fills the channel of the temporary file. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel ch) throws IOException;
    }

    /** What an atomic directory write puts into its temporary directory. */
    @FunctionalInterface
    public interface Contents {
        /** Writes the files into {@code tmp}, an empty directory beside the target. */
        void write(Path tmp) throws IOException;
    }

    /**
     * Runs {@code body} on a new temporary file beside {@code file}, forces it to disk, then renames
     * it over {@code file}. On any failure the temporary file is deleted and {@code file} is untouched.
     */
    public static void write(Path file, Body body) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        // Same directory: a rename is atomic only within one file system.
        // Not Files.createTempFile: it would make the file mode 0600 instead of the usual umask default.
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true); // data on disk before the rename makes it visible, or a crash could leave an empty file
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(file + ": the file system cannot rename atomically, so the file is left unchanged", e);
            }
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        force(dir);
    }

    /** Writes {@code text} as UTF-8 to {@code file} atomically (config.json, vocab.txt, metrics.json). */
    public static void writeString(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(file, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Writes all of {@code buf} to {@code ch}. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /**
     * Replaces {@code dir} atomically (see the class comment) with what {@code contents} writes into
     * a temporary directory. Every regular file {@code contents} leaves is forced to disk. It refuses
     * a directory that is neither empty nor a model directory (one with config.json), so a mistyped
     * path cannot wipe unrelated files. Writes to the same directory must not run concurrently.
     *
     * @throws IOException or whatever {@code contents} throws; {@code dir} is then unchanged and the
     *     temporary directory removed
     */
    public static void writeDirectory(Path dir, Contents contents) throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        // Replace the directory a symlink points to, not the link: that is where users look.
        if (Files.isSymbolicLink(target) && Files.isDirectory(target)) target = target.toRealPath();
        checkReplaceable(target);
        Path parent = target.getParent();
        if (parent == null) throw new IllegalArgumentException("cannot write the root directory as one unit");
        Files.createDirectories(parent);
        String tag = ProcessHandle.current().pid() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        Path tmp = parent.resolve(target.getFileName() + ".tmp-" + tag);
        Path old = parent.resolve(target.getFileName() + ".old-" + tag);
        Files.createDirectory(tmp);
        try {
            contents.write(tmp);
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.toList()) if (Files.isRegularFile(f)) force(f);
            }
            force(tmp);
            boolean hadOld = Files.exists(target);
            // ATOMIC_MOVE: a plain move could fall back to copy-and-delete, which is not atomic.
            if (hadOld) Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                if (hadOld) {
                    try {
                        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE); // put the previous one back
                    } catch (IOException restore) {
                        e.addSuppressed(restore);
                    }
                }
                throw e;
            }
        } catch (Throwable t) {
            try {
                deleteTree(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        force(parent);
        try {
            deleteTree(old);
        } catch (IOException e) {
            // The new directory is in place; a leftover copy of the old one is not a failed write.
            LOG.warning("wrote " + target + " but could not delete the previous contents at " + old + ": " + e);
        }
    }

    /** {@code p} when it is a regular file; else a NoSuchFileException naming it as {@code what} (e.g. "missing model file"). */
    public static Path requireFile(Path p, String what) throws IOException {
        if (!Files.isRegularFile(p)) throw new NoSuchFileException(p.toString(), null, what);
        return p;
    }

    /** Deletes {@code root} and everything under it (links are removed, not followed); nothing when absent. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        // Deepest first; Files.walk does not follow links, so a link inside is removed, not its target.
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static void checkReplaceable(Path target) throws IOException {
        if (!Files.exists(target)) return;
        if (!Files.isDirectory(target)) throw new NotDirectoryException(target + " exists and is not a directory");
        boolean empty;
        try (Stream<Path> s = Files.list(target)) {
            empty = s.findAny().isEmpty();
        }
        if (!empty && !Files.isRegularFile(target.resolve("config.json"))) {
            throw new DirectoryNotEmptyException(target + " (not a model directory: no config.json); a save"
                    + " replaces the whole directory, so it only overwrites an empty one or a previous model");
        }
    }

    /** fsync; best effort for directories, which not every OS can open. */
    public static void force(Path p) throws IOException {
        boolean dir = Files.isDirectory(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            if (!dir) throw e;
        }
    }
}
