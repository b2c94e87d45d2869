package dev.bertj.io;

import dev.bertj.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A memory-mapped <a href="https://github.com/huggingface/safetensors">safetensors</a> file.
 *
 * <p>Layout: an 8-byte little-endian header size {@code N}, {@code N} bytes of UTF-8 JSON, then
 * the data section. {@link #open} validates the header as HF's Rust crate does ({@code
 * read_metadata} and {@code Metadata::validate} in {@code safetensors/src/tensor.rs}): {@code N <=
 * 100,000,000}; the header starts with <code>{</code>; every dtype is known; every {@code
 * data_offsets} range holds exactly {@code numel * dtype size} bytes; and the ranges, sorted,
 * tile the data section with no gap, overlap or trailing byte. Every violation is a {@link
 * SafeTensorsException} naming the file and, where one is at fault, the tensor. Two points where
 * the crate (0.8) is laxer than the spec: a header with leading whitespace is rejected here, as
 * the spec requires; a repeated key is not detected (the last one wins, as in the crate), though
 * the entry it hides usually leaves a gap that is.
 *
 * <p>The file is mapped through a shared {@link Arena}, so any thread may {@link #load} while the
 * file is open; {@link #close} unmaps it. Offsets are {@code long}, so files over 2 GB work; a
 * single loaded tensor must fit one {@code float[]}.
 */
public final class SafeTensors implements AutoCloseable {

    /** Largest header accepted, as in HF's crate (MAX_HEADER_SIZE): larger ones are assumed hostile. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;

    /** Bits per element of every dtype HF's crate knows (Dtype::bitsize). */
    private static final Map<String, Integer> DTYPE_BITS = dtypeBits();

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 14; // elements per F16/BF16 conversion batch

    /** A malformed file, or a request the file cannot satisfy; the message names the file. */
    public static final class SafeTensorsException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a complete message. */
        public SafeTensorsException(String message) {
            super(message);
        }

        /** Creates an exception with a complete message and its cause. */
        public SafeTensorsException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * One header entry. {@code begin} and {@code end} are the {@code data_offsets}, relative to the
     * start of the data section, as in the file.
     *
     * @param dtype the safetensors dtype name, e.g. {@code F32}
     * @param shape the dimensions (copied in and out)
     * @param begin first byte, relative to the data section
     * @param end one past the last byte, relative to the data section
     */
    public record Info(String dtype, int[] shape, long begin, long end) {
        /** Copies {@code shape}, so the record stays immutable. */
        public Info {
            shape = shape.clone();
        }

        /** The dimensions (a copy). */
        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Number of elements: the product of the dimensions, 1 for a scalar. */
        public long numel() {
            long n = 1;
            for (int d : shape) n *= d; // cannot overflow: open() checked it
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Info i && dtype.equals(i.dtype) && Arrays.equals(shape, i.shape)
                    && begin == i.begin && end == i.end;
        }

        @Override
        public int hashCode() {
            return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin * 31 + end);
        }

        @Override
        public String toString() {
            return "Info[dtype=" + dtype + ", shape=" + Arrays.toString(shape) + ", data_offsets=[" + begin + ", " + end + "]]";
        }
    }

    private final String source;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Info> infos; // in data-offset order
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafeTensors(String source, Arena arena, MemorySegment data, Map<String, Info> infos, Map<String, String> metadata) {
        this.source = source;
        this.arena = arena;
        this.data = data;
        this.infos = infos;
        this.metadata = metadata;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws SafeTensorsException if the file is not a valid safetensors file
     * @throws IOException if it cannot be read
     */
    public static SafeTensors open(Path file) throws IOException {
        String source = file.toString();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw fail(source, "file is " + size + " bytes, too short for the 8-byte header size");
            MemorySegment all = ch.map(MapMode.READ_ONLY, 0, size, arena); // stays valid after the channel closes
            long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            // Unsigned: a huge u64 reads as negative here and is just as much too large.
            if (n < 0 || n > MAX_HEADER_SIZE) {
                throw fail(source, "header size " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes");
            }
            if (8 + n > size) {
                throw fail(source, "header size " + n + " runs past the end of the file (" + size + " bytes); truncated?");
            }
            byte[] header = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            long dataLen = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Info> infos = parseHeader(source, header, dataLen, metadata);
            SafeTensors st = new SafeTensors(source, arena, all.asSlice(8 + n, dataLen), infos,
                    Collections.unmodifiableMap(metadata));
            arena = null; // now owned by st
            return st;
        } finally {
            if (arena != null) arena.close();
        }
    }

    private static Map<String, Info> parseHeader(String source, byte[] header, long dataLen, Map<String, String> metadata) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw fail(source, "header is not valid UTF-8");
        }
        // The spec says the header MUST begin with '{'. HF's crate has this check written but still
        // commented out (InvalidHeaderStart), so it accepts leading whitespace; we follow the spec.
        if (text.isEmpty() || text.charAt(0) != '{') throw fail(source, "header is not a JSON object: it must start with '{'");
        Object parsed;
        try {
            parsed = Json.parse(text, source + " header");
        } catch (Json.JsonException e) {
            throw new SafeTensorsException(source + ": header is not valid JSON: " + e.getMessage(), e);
        }
        List<Map.Entry<String, Info>> entries = new ArrayList<>();
        for (Map.Entry<String, Object> e : Json.asObject(parsed, "header").entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(source, e.getValue(), metadata);
            } else {
                entries.add(Map.entry(e.getKey(), readInfo(source, e.getKey(), e.getValue())));
            }
        }
        // HF sorts by offsets before validating: the header's key order carries no meaning.
        entries.sort(Comparator.comparingLong((Map.Entry<String, Info> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        Map<String, Info> infos = new LinkedHashMap<>();
        long covered = 0;
        String previous = null;
        for (Map.Entry<String, Info> e : entries) {
            String name = e.getKey();
            Info info = e.getValue();
            String range = "data_offsets [" + info.begin() + ", " + info.end() + "]";
            if (info.end() < info.begin()) throw fail(source, name, range + " end before they begin");
            if (info.end() > dataLen) {
                throw fail(source, name, range + " run past the end of the data section, which holds "
                        + dataLen + " bytes; truncated file?");
            }
            if (info.begin() < covered) {
                throw fail(source, name, range + " overlap tensor '" + previous + "', which ends at " + covered);
            }
            if (info.begin() > covered) {
                // Holes could hide a second payload (a polyglot file), so the spec forbids them.
                throw fail(source, name, range + " leave a gap: bytes [" + covered + ", " + info.begin()
                        + ") of the data section belong to no tensor"
                        + (previous == null ? "" : " (previous tensor '" + previous + "' ends at " + covered + ")"));
            }
            long nbits;
            try {
                long numel = 1;
                for (int d : info.shape) numel = Math.multiplyExact(numel, (long) d);
                nbits = Math.multiplyExact(numel, (long) DTYPE_BITS.get(info.dtype()));
            } catch (ArithmeticException overflow) {
                throw fail(source, name, "shape " + Arrays.toString(info.shape) + " of " + info.dtype() + " overflows a 64-bit byte count");
            }
            if (nbits % 8 != 0) {
                throw fail(source, name, "shape " + Arrays.toString(info.shape) + " of " + info.dtype() + " is "
                        + nbits + " bits, not a whole number of bytes");
            }
            if (info.end() - info.begin() != nbits / 8) {
                throw fail(source, name, "shape " + Arrays.toString(info.shape) + " needs " + nbits / 8 + " bytes of "
                        + info.dtype() + " but data_offsets give " + (info.end() - info.begin()));
            }
            infos.put(name, info);
            covered = info.end();
            previous = name;
        }
        if (covered != dataLen) {
            throw fail(source, "the data section holds " + dataLen + " bytes but the tensors cover only " + covered
                    + "; the spec forbids trailing bytes");
        }
        return Collections.unmodifiableMap(infos);
    }

    private static void readMetadata(String source, Object value, Map<String, String> out) {
        if (value == null) return; // HF reads it as an Option, so null means none
        if (!(value instanceof Map<?, ?> map)) throw fail(source, "__metadata__ must be a JSON object of strings");
        for (Map.Entry<?, ?> e : map.entrySet()) {
            // HF reads __metadata__ as HashMap<String, String>, so it rejects any other value too.
            if (!(e.getValue() instanceof String s)) {
                throw fail(source, "__metadata__ value for '" + e.getKey() + "' must be a string");
            }
            out.put((String) e.getKey(), s);
        }
    }

    private static Info readInfo(String source, String name, Object value) {
        if (!(value instanceof Map<?, ?> entry)) throw fail(source, name, "header entry must be a JSON object");
        if (!(entry.get("dtype") instanceof String dtype)) throw fail(source, name, "missing or non-string 'dtype'");
        if (!DTYPE_BITS.containsKey(dtype)) {
            throw fail(source, name, "unknown dtype '" + dtype + "'; known dtypes are " + DTYPE_BITS.keySet());
        }
        if (!(entry.get("shape") instanceof List<?> dims)) throw fail(source, name, "missing or non-array 'shape'");
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw fail(source, name, "shape " + dims + " must hold non-negative integers");
            }
            if (d > Integer.MAX_VALUE) throw fail(source, name, "shape " + dims + " has a dimension beyond 2^31-1, which bertj does not support");
            shape[i] = (int) (long) d;
        }
        if (!(entry.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end) || begin < 0 || end < 0) {
            throw fail(source, name, "'data_offsets' must be two non-negative integers [begin, end] but is " + entry.get("data_offsets"));
        }
        return new Info(dtype, shape, begin, end);
    }

    /** The tensor names, in the order of their data in the file. */
    public Set<String> names() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(infos.keySet()));
    }

    /** Whether the file holds a tensor called {@code name}. */
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    /**
     * The header entry of {@code name}.
     *
     * @throws SafeTensorsException if there is no such tensor; the message lists some that exist
     */
    public Info info(String name) {
        Info info = infos.get(name);
        if (info == null) {
            String some = infos.keySet().stream().limit(8).map(s -> "'" + s + "'").collect(Collectors.joining(", "));
            throw fail(source, name, "no such tensor; the file holds " + infos.size() + " tensors"
                    + (infos.isEmpty() ? "" : ": " + some + (infos.size() > 8 ? ", ..." : "")));
        }
        return info;
    }

    /** The {@code __metadata__} entry (string to string), empty if the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads tensor {@code name} as float32: F32 is copied, F16 and BF16 are widened exactly.
     *
     * @throws SafeTensorsException if there is no such tensor, its dtype is another one, or it
     *     holds more elements than one Java array can
     * @throws IllegalStateException if this file was closed
     */
    public Tensor load(String name) {
        Info info = info(name);
        if (closed) throw new IllegalStateException(source + ": closed");
        long n = info.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw fail(source, name, "has " + n + " elements, more than one float[] can hold");
        }
        int count = (int) n;
        float[] out = new float[count];
        MemorySegment bytes = data.asSlice(info.begin(), info.end() - info.begin());
        switch (info.dtype()) {
            case "F32" -> MemorySegment.copy(bytes, F32, 0, out, 0, count);
            case "F16", "BF16" -> {
                boolean bf16 = info.dtype().equals("BF16");
                short[] chunk = new short[Math.min(CHUNK, count)];
                for (int at = 0; at < count; at += chunk.length) {
                    int len = Math.min(chunk.length, count - at);
                    MemorySegment.copy(bytes, U16, 2L * at, chunk, 0, len);
                    for (int i = 0; i < len; i++) {
                        // BF16 is the upper half of a float32, so widening is a shift.
                        out[at + i] = bf16 ? Float.intBitsToFloat(chunk[i] << 16) : Float.float16ToFloat(chunk[i]);
                    }
                }
            }
            default -> throw fail(source, name, "has dtype " + info.dtype() + "; load() reads only F32, F16 and BF16 as float32");
        }
        return new Tensor(out, info.shape());
    }

    /** Unmaps the file; later loads fail. Closing twice does nothing. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "SafeTensors[" + source + ", " + infos.size() + " tensors]";
    }

    private static SafeTensorsException fail(String source, String message) {
        return new SafeTensorsException(source + ": " + message);
    }

    private static SafeTensorsException fail(String source, String tensor, String message) {
        return new SafeTensorsException(source + ": tensor '" + tensor + "': " + message);
    }

    private static Map<String, Integer> dtypeBits() {
        // Order and sizes follow HF's Dtype enum (safetensors 0.6); sub-byte types pack several per byte.
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("BOOL", 8);
        m.put("F4", 4);
        m.put("F6_E2M3", 6);
        m.put("F6_E3M2", 6);
        m.put("U8", 8);
        m.put("I8", 8);
        m.put("F8_E5M2", 8);
        m.put("F8_E4M3", 8);
        m.put("F8_E8M0", 8);
        m.put("I16", 16);
        m.put("U16", 16);
        m.put("F16", 16);
        m.put("BF16", 16);
        m.put("I32", 32);
        m.put("U32", 32);
        m.put("F32", 32);
        m.put("C64", 64);
        m.put("F64", 64);
        m.put("I64", 64);
        m.put("U64", 64);
        return Collections.unmodifiableMap(m);
    }
}
