package dev.bertj.io;

import dev.bertj.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes float32 tensors as a safetensors file that HF's {@code safetensors} library and {@link
 * SafeTensors} both read.
 *
 * <p>The header is compact JSON ({@code serde_json}'s spelling), padded with spaces to a multiple
 * of 8 bytes as HF pads it, so every tensor's data starts 8-byte aligned. Unlike HF, which sorts
 * tensors by dtype and name, tensors are written in the map's iteration order: pass a {@link
 * java.util.TreeMap} to get HF's order (all tensors here are F32).
 *
 * <p>Writes are atomic ({@link AtomicFiles#write}): a reader sees the old file or the new one, never
 * a torn one; on failure an existing target is left as it was.
 */
public final class SafeTensorsWriter {

    private static final int BUFFER_BYTES = 1 << 16;

    private SafeTensorsWriter() {}

    /**
     * Writes {@code tensors} as F32 with the given {@code __metadata__}.
     *
     * @param file the target; replaced atomically if it exists
     * @param tensors name to tensor, written in iteration order
     * @param metadata string-to-string metadata (e.g. {@code format -> pt}), or null for none
     * @throws SafeTensors.SafeTensorsException if a name is {@code __metadata__} or a name, tensor, key or
     *     value is null; nothing is written then
     * @throws IOException if writing fails; {@code file} is then unchanged
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        // Snapshot once, so header and data cannot disagree even if the map changes meanwhile.
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> data = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null) throw new SafeTensors.SafeTensorsException(file + ": tensor names must not be null");
            if (e.getValue() == null) throw new SafeTensors.SafeTensorsException(file + ": tensor '" + e.getKey() + "' is null");
            shapes.put(e.getKey(), e.getValue().shape());
            data.put(e.getKey(), e.getValue().data());
        }
        writeStreaming(file, shapes, data::get, metadata);
    }

    /** Supplies one tensor's float32 values when the writer reaches it. */
    @FunctionalInterface
    public interface Source {
        /** The values of {@code name}, exactly as many as its shape's product. */
        float[] floats(String name) throws IOException;
    }

    /**
     * Writes F32 tensors whose values {@code source} produces one at a time, in {@code shapes}'
     * iteration order, so a large model is written while holding only one tensor in memory.
     *
     * @param shapes name to shape, in the order the tensors are written
     * @throws SafeTensors.SafeTensorsException as {@link #write}, or when {@code source} gives a
     *     tensor a number of values that does not match its shape; {@code file} is then unchanged
     */
    public static void writeStreaming(Path file, Map<String, int[]> shapes, Source source, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(shapes, "shapes");
        Objects.requireNonNull(source, "source");
        List<Map.Entry<String, int[]>> entries = new ArrayList<>(shapes.size());
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new SafeTensors.SafeTensorsException(file + ": __metadata__ keys and values must not be null");
                }
            }
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            String name = e.getKey();
            if (name == null) throw new SafeTensors.SafeTensorsException(file + ": tensor names must not be null");
            if (name.equals("__metadata__")) {
                throw new SafeTensors.SafeTensorsException(file + ": '__metadata__' is reserved and cannot name a tensor");
            }
            if (e.getValue() == null) throw new SafeTensors.SafeTensorsException(file + ": tensor '" + name + "' has no shape");
            int[] shape = e.getValue().clone();
            long end = offset + 4L * Tensor.numel(shape);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", "F32");
            info.put("shape", shape);
            info.put("data_offsets", new long[] {offset, end});
            header.put(name, info);
            entries.add(Map.entry(name, shape));
            offset = end;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        if (padded > SafeTensors.MAX_HEADER_SIZE) {
            throw new SafeTensors.SafeTensorsException(file + ": header would be " + padded + " bytes, over the limit of "
                    + SafeTensors.MAX_HEADER_SIZE + " that readers accept");
        }
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, ch -> {
            AtomicFiles.writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<String, int[]> e : entries) {
                float[] values = source.floats(e.getKey());
                if (values == null || values.length != Tensor.numel(e.getValue())) {
                    throw new SafeTensors.SafeTensorsException(file + ": tensor '" + e.getKey() + "' has "
                            + (values == null ? "no values" : values.length + " values") + " for shape "
                            + java.util.Arrays.toString(e.getValue()));
                }
                writeFloats(ch, buf, values);
            }
        });
    }

    /** Writes {@code data} as little-endian float32 through {@code buf}. */
    static void writeFloats(FileChannel ch, ByteBuffer buf, float[] data) throws IOException {
        FloatBuffer floats = buf.clear().asFloatBuffer(); // inherits buf's little-endian order
        for (int at = 0; at < data.length; ) {
            int len = Math.min(floats.capacity(), data.length - at);
            floats.clear();
            floats.put(data, at, len);
            buf.clear().limit(4 * len);
            AtomicFiles.writeFully(ch, buf);
            at += len;
        }
    }

}
