package dev.bertj.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The contract every fuzz target asserts about the code under test (issue 13):
 * <ul>
 *   <li>only documented exceptions escape: {@link IOException} or {@link IllegalArgumentException}
 *       (bertj's own exceptions extend one of them), each with a message naming the file, line,
 *       field or tensor; anything else (NullPointerException, ArrayIndexOutOfBounds, NumberFormat,
 *       ArithmeticException, OutOfMemoryError, StackOverflowError) is a finding;</li>
 *   <li>no allocation beyond what the input size justifies: the calling thread's allocated bytes,
 *       measured around the call, stay within a per-target allowance;</li>
 *   <li>no hang: each target carries a JUnit {@code @Timeout}, which Jazzer also passes to libFuzzer
 *       as {@code -timeout} when fuzzing.</li>
 * </ul>
 *
 * <p>Targets today: safetensors, ONNX (read and convert), Json, config.json, vocab.txt,
 * tokenizer.json, tokenizer_config.json, npy, the e-mail parser, {@code BertTokenizer.encode} and
 * {@code encodeBatch}, and the CLI's JSON Lines input. A new entry point (the TF TensorBundle
 * reader: a {@code TensorBundleFuzzTest} writing the fuzzed bytes as {@code variables.index}; the
 * server's request bodies: one target per route) joins by adding a {@code *FuzzTest} class here,
 * its seeds under {@code src/test/resources/dev/bertj/fuzz/<Class>Inputs/<method>/}, and a line in
 * {@code scripts/fuzz-campaign.sh}.
 */
final class Contract {
    private Contract() { }

    /** Allowance every target gets regardless of input size: lookup tables, buffers, JIT noise. */
    static final long BASE_ALLOWANCE = 64L << 20;

    /**
     * {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, found reflectively:
     * the tests compile inside module dev.bertj, which does not read the management modules.
     */
    private static final MethodHandle ALLOCATED = allocatedBytes();

    private static MethodHandle allocatedBytes() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
            return MethodHandles.publicLookup().findVirtual(type, "getCurrentThreadAllocatedBytes", MethodType.methodType(long.class))
                    .bindTo(bean);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this JVM does not measure allocated bytes per thread", e);
        }
    }
    private static final Path DIR = scratchDir();

    private static Path scratchDir() {
        try {
            // tmpfs when there is one: campaigns write every input to a file.
            Path shm = Path.of("/dev/shm");
            Path parent = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
            Path dir = Files.createTempDirectory(parent, "bertj-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A scratch directory of the calling thread, emptied of {@code names} before use. */
    static Path dir(String... names) {
        Path d = DIR.resolve("t" + Thread.currentThread().threadId());
        try {
            Files.createDirectories(d);
            for (String n : names) Files.deleteIfExists(d.resolve(n));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    /** Writes {@code bytes} as {@code name} in the calling thread's scratch directory. */
    static Path write(String name, byte[] bytes) {
        Path f = dir().resolve(name);
        try {
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    /** Bytes allocated by the calling thread so far. */
    static long allocated() {
        try {
            return (long) ALLOCATED.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Fails when the calling thread allocated more than {@code allowance} bytes since {@code before}. */
    static void allocationWithin(long before, long allowance, String what) {
        long used = allocated() - before;
        if (used > allowance) {
            throw new AssertionError(String.format("%s allocated %,d bytes, more than the allowance of %,d", what, used, allowance));
        }
    }

    /**
     * Checks a thrown exception against the contract: one of {@code allowed} (documented), with a
     * message naming {@code mustName} (a file name, or a field); anything else is rethrown as a
     * finding with the original as its cause.
     */
    @SafeVarargs
    static void documented(Throwable t, String mustName, Class<? extends Throwable>... allowed) {
        boolean ok = Arrays.stream(allowed).anyMatch(c -> c.isInstance(t));
        if (!ok) throw new AssertionError("undocumented exception " + t, t);
        String m = t.getMessage();
        if (m == null || m.isBlank()) throw new AssertionError("exception without a message: " + t, t);
        if (mustName != null && !m.contains(mustName)) {
            throw new AssertionError("message does not name '" + mustName + "': " + m, t);
        }
    }

    /** A call that may throw anything, so that {@link #documented} can judge it. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws Exception;
    }

    /**
     * Runs {@code call}; returns its result, or null after checking a thrown exception with
     * {@link #documented}. Errors other than AssertionError (OutOfMemoryError, StackOverflowError)
     * are findings.
     */
    @SafeVarargs
    static <T> T expect(Call<T> call, String mustName, Class<? extends Throwable>... allowed) {
        try {
            return call.run();
        } catch (AssertionError e) {
            throw e;
        } catch (Throwable t) {
            documented(t, mustName, allowed);
            return null;
        }
    }
}
