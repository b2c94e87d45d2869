package dev.bertj.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The {@code char**} arrays {@link KernelModule#compile} hands NVRTC (header sources, include names,
 * options), read back through JavaCPP's native memory access: each element must be the address of
 * its own NUL-terminated UTF-8 string. Needs no GPU, only JavaCPP's native library (its linux-x86_64
 * jar), so it runs everywhere; a wrong array made the JVM die in NVRTC on the first real device.
 */
class NvrtcStringsTest {
    /** Checks every element of {@code s} against {@code values}, reading native memory. */
    private static void assertPointsToEachString(NvrtcStrings s, List<String> values) {
        PointerPointer<BytePointer> array = s.array();
        assertEquals(values.size(), s.count(), "count");
        for (int i = 0; i < values.size(); i++) {
            byte[] want = values.get(i).getBytes(StandardCharsets.UTF_8);
            assertEquals(s.stringAddress(i), array.get(i).address(), "element " + i + " holds the address of string " + i);
            BytePointer at = array.get(BytePointer.class, i);
            // Read exactly want.length + 1 bytes: the string, then its terminating NUL.
            byte[] got = new byte[want.length + 1];
            at.capacity(got.length).get(got);
            assertEquals(values.get(i), new String(got, 0, want.length, StandardCharsets.UTF_8), "element " + i + "'s text");
            assertEquals(0, got[want.length], "element " + i + " ends with NUL");
            // getString() on a pointer without a limit stops at the first NUL (strlen), as NVRTC reads it.
            assertEquals(values.get(i), array.get(BytePointer.class, i).getString(StandardCharsets.UTF_8), "element " + i + " read up to its NUL");
        }
    }

    @Test
    void theHeaderAndItsIncludeNameAreArraysOfPointersToTheirText() {
        String header = KernelSources.HEADERS.get(0);
        List<String> sources = List.of(KernelSources.source(header));
        try (NvrtcStrings headers = new NvrtcStrings(sources); NvrtcStrings names = new NvrtcStrings(List.of(header))) {
            assertPointsToEachString(headers, sources);
            assertPointsToEachString(names, List.of(header));
        }
    }

    @Test
    void theOptionsAreAnArrayOfPointersToEachOption() {
        List<String> options = KernelModule.options(90);
        assertEquals("--gpu-architecture=sm_90", options.get(0));
        try (NvrtcStrings s = new NvrtcStrings(options)) {
            assertPointsToEachString(s, options);
        }
    }

    @Test
    void nonAsciiTextIsPassedAsUtf8() {
        List<String> values = List.of("// π ≈ 3.14159, naïve", "", "x");
        try (NvrtcStrings s = new NvrtcStrings(values)) {
            assertPointsToEachString(s, values);
        }
    }

    /**
     * Why the arrays are built from BytePointer[]: with one argument, {@code new PointerPointer<>(p)} is
     * the cast constructor, so element 0 is the string's first 8 bytes read as an address. This is the
     * check above failing on the old construction, kept so that the reason stays visible.
     */
    @Test
    void theSingleArgumentConstructorIsACastNotAnArray() {
        String text = "// Shared helpers";
        try (BytePointer str = new BytePointer(text, StandardCharsets.UTF_8)) {
            PointerPointer<BytePointer> cast = new PointerPointer<>(str);
            long element0 = cast.get(0).address();
            long firstBytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(firstBytes, element0, "element 0 is the text's first 8 bytes, not a pointer");
            assertNotEquals(str.address(), element0);
        }
    }
}
