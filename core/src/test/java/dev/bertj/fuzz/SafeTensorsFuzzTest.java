package dev.bertj.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bertj.io.SafeTensors;
import dev.bertj.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** safetensors: any bytes open or fail naming the file; every loaded F32 tensor is the file's bytes at its offsets. */
class SafeTensorsFuzzTest {
    @FuzzTest
    @Timeout(10)
    void safetensors(byte[] input) {
        Path file = Contract.write("fuzz.safetensors", input);
        long before = Contract.allocated();
        try (SafeTensors st = Contract.expect(() -> SafeTensors.open(file), file.toString(),
                IOException.class, SafeTensors.SafeTensorsException.class)) {
            if (st == null) return;
            ByteBuffer raw = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
            long dataStart = 8 + raw.getLong(0);
            for (String name : st.names()) {
                SafeTensors.Info info = st.info(name);
                Tensor t = Contract.expect(() -> st.load(name), name, SafeTensors.SafeTensorsException.class);
                if (t == null || !info.dtype().equals("F32")) continue;
                // Oracle: the floats sit little-endian at data_offsets, counted from the end of the header.
                float[] data = t.data();
                for (int i = 0; i < data.length; i++) {
                    assertEquals(raw.getInt((int) (dataStart + info.begin() + 4L * i)), Float.floatToRawIntBits(data[i]), name + "[" + i + "]");
                }
            }
        }
        // A loaded tensor is at most the file (F16/BF16 widen two bytes to four), plus the parsed header.
        Contract.allocationWithin(before, Contract.BASE_ALLOWANCE + 64L * input.length, "safetensors");
    }
}
