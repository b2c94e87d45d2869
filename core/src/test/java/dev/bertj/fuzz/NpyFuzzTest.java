package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.Npy;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** npy: any bytes read or fail naming the file; what reads writes back and reads back the same. */
class NpyFuzzTest {
    @FuzzTest
    @Timeout(10)
    void npy(byte[] input) throws IOException {
        Path file = Contract.write("fuzz.npy", input);
        long before = Contract.allocated();
        Npy.Array a = Contract.expect(() -> Npy.read(file), file.toString(), IOException.class, Npy.NpyException.class);
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 64L * input.length, "npy");
        if (a == null) return;
        // Oracle: numpy.save's format round trip (float64 narrowed and int32 widened on the first read).
        Path again = Contract.dir("again.npy").resolve("again.npy");
        if (a.floats() != null) Npy.writeFloat32(again, a.floats(), a.shape());
        else Npy.writeInt64(again, a.longs(), a.shape());
        Npy.Array b = Npy.read(again);
        assertArrayEquals(a.shape(), b.shape());
        if (a.floats() != null) assertArrayEquals(a.floats(), b.floats());
        else assertArrayEquals(a.longs(), b.longs());
    }
}
