package dev.bertj.cuda;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One kernel file compiled by NVRTC for the current device's architecture and loaded as a CUDA
 * module; the CUBIN is cached on disk by source hash, architecture, NVRTC version and options. {@link #launch}
 * waits for the kernel, {@link #launchAsync} queues it.
 */
public final class KernelModule implements AutoCloseable {
    private final CUmod_st module = new CUmod_st();
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final String file;
    private static final int MAX_ARGS = 32;
    /** The launch arguments' values, 8 bytes each, and the pointers to them that cuLaunchKernel takes. */
    private final LongPointer argValues = new LongPointer(MAX_ARGS);
    private final PointerPointer<Pointer> argPointers = new PointerPointer<>(MAX_ARGS);

    KernelModule(String file, byte[] cubin) {
        this.file = file;
        for (int i = 0; i < MAX_ARGS; i++) argPointers.put(i, DeviceMemory.at(argValues.address() + 8L * i));
        try (BytePointer image = new BytePointer(cubin)) {
            Cuda.checkDriver(cudart.cuModuleLoadData(module, image), "loading " + file);
        }
    }

    /**
     * Compiles (or takes from {@code cacheDir}) {@code file} of {@link KernelSources} into a CUBIN for compute
     * capability {@code cc} (e.g. 90). A CUBIN, not PTX: the driver then needs no JIT, and PTX from an NVRTC
     * newer than the driver would be refused. The cache key covers the sources, the architecture, the
     * NVRTC version and the options.
     */
    public static KernelModule load(String file, int cc, Path cacheDir) throws IOException {
        String src = KernelSources.source(file);
        int[] major = {0}, minor = {0};
        nvrtcCheck(nvrtc.nvrtcVersion(major, minor), "reading the NVRTC version");
        String key = sha256(src + KernelSources.source(KernelSources.HEADERS.get(0)) + "|nvrtc " + major[0] + "." + minor[0] + "|" + options(cc));
        Path cached = cacheDir.resolve(file + "-" + key + "-sm_" + cc + ".cubin");
        byte[] cubin;
        if (Files.isRegularFile(cached)) {
            cubin = Files.readAllBytes(cached);
        } else {
            cubin = compile(file, src, cc);
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, file, ".tmp");
            Files.write(tmp, cubin);
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return new KernelModule(file, cubin);
    }

    /** The cache key: a collision would load another source's binary, so not String.hashCode. */
    private static String sha256(String text) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * NVRTC's options for compute capability {@code cc}. The precision flags are NVRTC's defaults, spelled
     * out because the parity tests rely on them: IEEE-rounded divide and square root, no flush of
     * subnormals to zero (as Java's float arithmetic). Multiply-adds are still contracted (--fmad=true,
     * the default, for speed): kernels that must equal the CPU bit for bit round with __fmul_rn where the
     * CPU rounds a product before adding.
     */
    static List<String> options(int cc) {
        return List.of("--gpu-architecture=sm_" + cc, "-std=c++17", "--prec-div=true", "--prec-sqrt=true", "--ftz=false");
    }

    static byte[] compile(String file, String src, int cc) {
        _nvrtcProgram prog = new _nvrtcProgram();
        String header = KernelSources.HEADERS.get(0);
        // Every string NVRTC reads stays allocated until the program is destroyed: NVRTC's documentation
        // does not promise to copy the headers at nvrtcCreateProgram, so they outlive nvrtcCompileProgram.
        try (BytePointer source = new BytePointer(src, StandardCharsets.UTF_8);
             BytePointer name = new BytePointer(file, StandardCharsets.UTF_8);
             NvrtcStrings headers = new NvrtcStrings(List.of(KernelSources.source(header)));
             NvrtcStrings includeNames = new NvrtcStrings(List.of(header));
             NvrtcStrings options = new NvrtcStrings(options(cc))) {
            nvrtcCheck(nvrtc.nvrtcCreateProgram(prog, source, name, headers.count(), headers.array(), includeNames.array()), "creating " + file);
            try {
                int rc = nvrtc.nvrtcCompileProgram(prog, options.count(), options.array());
                if (rc != 0) {
                    try (SizeTPointer size = new SizeTPointer(1)) {
                        nvrtc.nvrtcGetProgramLogSize(prog, size);
                        try (BytePointer log = new BytePointer(size.get())) {
                            nvrtc.nvrtcGetProgramLog(prog, log);
                            throw new IllegalStateException("NVRTC could not compile " + file + " for sm_" + cc + " ("
                                    + nvrtc.nvrtcGetErrorString(rc).getString() + "):\n" + log.getString());
                        }
                    }
                }
                try (SizeTPointer size = new SizeTPointer(1)) {
                    nvrtcCheck(nvrtc.nvrtcGetCUBINSize(prog, size), "sizing the CUBIN of " + file);
                    byte[] cubin = new byte[(int) size.get()];
                    nvrtcCheck(nvrtc.nvrtcGetCUBIN(prog, cubin), "reading the CUBIN of " + file);
                    return cubin;
                }
            } finally {
                nvrtc.nvrtcDestroyProgram(prog);
            }
        }
    }

    private static void nvrtcCheck(int rc, String what) {
        if (rc != 0) throw new IllegalStateException("NVRTC: " + what + " failed: " + nvrtc.nvrtcGetErrorString(rc).getString());
    }

    /**
     * Launches {@code kernel} on a grid of {@code gridX x gridY} blocks of {@code block} threads and
     * waits. Arguments: {@link DeviceMemory} (its address, or null for a null pointer), Integer,
     * Long, Float, Double, in the kernel's order.
     */
    public void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        launchAsync(kernel, gridX, gridY, block, args);
        Cuda.check(cudart.cudaDeviceSynchronize(), "running " + kernel);
    }

    /**
     * As {@link #launch} without waiting: the kernel is queued on the default stream, after the work
     * before it (cuBLAS included) and before copies back to the host, which wait for it.
     */
    public synchronized void launchAsync(String kernel, int gridX, int gridY, int block, Object... args) {
        CUfunc_st f = functions.computeIfAbsent(kernel, k -> {
            CUfunc_st fn = new CUfunc_st();
            Cuda.checkDriver(cudart.cuModuleGetFunction(fn, module, k), "finding kernel " + k + " in " + file);
            return fn;
        });
        if (args.length > MAX_ARGS) throw new IllegalArgumentException(kernel + ": more than " + MAX_ARGS + " arguments");
        // cuLaunchKernel copies the argument values when called, so one native block serves every
        // launch: 8 bytes per argument, and the array of pointers to them (no allocation per launch).
        // Each slot holds the value in its low bytes (x86-64 is little-endian, as the linux-x86_64 bindings).
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            long bits = switch (a) {
                case null -> 0L;
                case DeviceMemory m -> m.address();
                case Integer v -> Integer.toUnsignedLong(v);
                case Long v -> v;
                case Float v -> Integer.toUnsignedLong(Float.floatToRawIntBits(v));
                case Double v -> Double.doubleToRawLongBits(v);
                default -> throw new IllegalArgumentException("kernel argument " + i + " of " + kernel + " has unsupported type " + a.getClass());
            };
            argValues.put(i, bits);
        }
        PointerPointer<Pointer> params = argPointers;
        Cuda.checkDriver(cudart.cuLaunchKernel(f, gridX, gridY, 1, block, 1, 1, 0, null, params, (PointerPointer<?>) null), "launching " + kernel);
    }

    @Override
    public void close() {
        cudart.cuModuleUnload(module);
        argValues.close();
        argPointers.close();
    }
}
