package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.TensorBundle;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * TensorFlow TensorBundle checkpoints (the bert-base-uncased issue's reader): any index and data bytes
 * open or fail naming the checkpoint; every float tensor that loads is the data file's little-endian
 * bytes at the entry's offset. The input is {@code [u16 index length][index][data]}; the seeds are a
 * valid two-tensor bundle written by the test suite's independent writer (io/BundleWriter).
 */
class TensorBundleFuzzTest {
    static final String PREFIX = "fuzz.ckpt";

    /** Splits a fuzz input into a checkpoint prefix's index and data file, in a fresh directory. */
    static Path write(byte[] input) {
        int n = input.length < 2 ? 0 : Math.min(input.length - 2, ((input[0] & 0xff) << 8) | (input[1] & 0xff));
        Path dir = Contract.dir("bundle");
        try {
            try (var old = Files.list(dir)) {
                for (Path p : (Iterable<Path>) old::iterator) Files.delete(p);
            }
            Files.write(dir.resolve(PREFIX + ".index"), Arrays.copyOfRange(input, Math.min(2, input.length), Math.min(input.length, 2 + n)));
            Files.write(dir.resolve(PREFIX + ".data-00000-of-00001"), Arrays.copyOfRange(input, Math.min(input.length, 2 + n), input.length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve(PREFIX);
    }

    @FuzzTest
    @Timeout(10)
    void bundle(byte[] input) throws IOException {
        Path prefix = write(input);
        long before = Contract.allocated();
        try (TensorBundle b = Contract.expect(() -> TensorBundle.open(prefix), PREFIX, IOException.class, TensorBundle.BundleException.class)) {
            if (b == null) return;
            ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(prefix.resolveSibling(PREFIX + ".data-00000-of-00001"))).order(ByteOrder.LITTLE_ENDIAN);
            for (String name : b.names()) {
                TensorBundle.Entry e = b.entry(name);
                float[] f = Contract.expect(() -> b.floats(name), name, TensorBundle.BundleException.class);
                if (f == null) continue;
                // Oracle: the index's offset and size into the data file, read here with a plain ByteBuffer.
                assertEquals(e.size(), 4L * f.length, name + ": size");
                for (int i = 0; i < f.length; i++) {
                    assertEquals(data.getInt((int) (e.offset() + 4L * i)), Float.floatToRawIntBits(f[i]), name + "[" + i + "]");
                }
            }
        }
        // Loading widens nothing: at most the files' bytes again, plus the parsed index.
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 64L * input.length, "TensorBundle");
    }
}
