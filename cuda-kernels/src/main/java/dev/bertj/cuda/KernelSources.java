package dev.bertj.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA sources this jar carries, for NVRTC to compile at run time for the device found (the build
 * compiles the same files with nvcc when it is installed, so a kernel that does not compile fails the
 * build without a GPU). Files include {@code common.cuh} by name.
 */
public final class KernelSources {
    /** The kernel files, in dependency-free order. */
    public static final List<String> FILES = List.of(
            "embeddings.cu", "layernorm.cu", "activations.cu", "attention.cu", "loss.cu", "adamw.cu", "elementwise.cu");
    /** Headers the kernel files include. */
    public static final List<String> HEADERS = List.of("common.cuh");
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

    private KernelSources() { }

    /** The text of one file ({@link #FILES} or {@link #HEADERS}). */
    public static String source(String file) {
        try (InputStream in = KernelSources.class.getResourceAsStream("kernels/" + file)) {
            if (in == null) throw new IllegalArgumentException("no CUDA source " + file + " in bertj-cuda");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading CUDA source " + file, e);
        }
    }

    /** Every {@code extern "C" __global__} kernel name, mapped to the file that defines it. */
    public static Map<String, String> kernels() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : FILES) {
            Matcher m = KERNEL.matcher(source(f));
            while (m.find()) {
                String previous = out.put(m.group(1), f);
                if (previous != null) throw new IllegalStateException("kernel " + m.group(1) + " is defined in both " + previous + " and " + f);
            }
        }
        return out;
    }
}
