package dev.bertj.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A C array of NUL-terminated UTF-8 strings ({@code const char* const*}), as NVRTC takes header sources,
 * include names and options; closing it frees the strings and the array.
 *
 * <p>Built from a {@code BytePointer[]} on purpose: {@code new PointerPointer<>(new BytePointer(s))}
 * with a single argument is JavaCPP's cast constructor {@code PointerPointer(Pointer)}, not the varargs
 * one, and makes element 0 the first bytes of the text itself, which NVRTC then dereferences (SIGSEGV).
 * The strings are held in a field as well as by the array, so they stay reachable (and allocated) for
 * as long as this object is, which a caller guarantees across the NVRTC calls with try-with-resources.
 */
final class NvrtcStrings implements AutoCloseable {
    private final BytePointer[] strings;
    private final PointerPointer<BytePointer> array;

    NvrtcStrings(List<String> values) {
        strings = new BytePointer[values.size()];
        for (int i = 0; i < strings.length; i++) {
            // BytePointer(String, Charset) copies the bytes and appends the terminating NUL.
            strings[i] = new BytePointer(values.get(i), StandardCharsets.UTF_8);
        }
        array = new PointerPointer<>(strings);
    }

    /** The {@code char**} to pass. */
    PointerPointer<BytePointer> array() {
        return array;
    }

    /** How many strings the array holds (NVRTC's count argument). */
    int count() {
        return strings.length;
    }

    /** The address element {@code i} must hold: string {@code i}'s own bytes. */
    long stringAddress(int i) {
        return strings[i].address();
    }

    @Override
    public void close() {
        array.close();
        for (BytePointer s : strings) s.close();
    }
}
