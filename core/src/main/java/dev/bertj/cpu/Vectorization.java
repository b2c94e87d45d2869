package dev.bertj.cpu;

import java.util.logging.Logger;

/**
 * Chooses the CPU kernels once per JVM, as Lucene's VectorizationProvider does: the Vector API
 * when {@code jdk.incubator.vector} is present and the JIT can intrinsify it, otherwise the scalar
 * kernels, with one log line saying why.
 */
public final class Vectorization {
    private static final Logger LOG = Logger.getLogger(Vectorization.class.getName());
    private static final Kernels KERNELS = choose();

    private Vectorization() { }

    /** The kernels this JVM should use. */
    public static Kernels kernels() {
        return KERNELS;
    }

    private static Kernels choose() {
        if (Boolean.getBoolean("bertj.scalar")) {
            LOG.info("bertj: using scalar kernels (-Dbertj.scalar=true)");
            return ScalarKernels.INSTANCE;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.warning("bertj: the Vector API is not available (start Java with --add-modules jdk.incubator.vector); "
                    + "falling back to slower scalar kernels");
            return ScalarKernels.INSTANCE;
        }
        String vm = System.getProperty("java.vm.info", "");
        if (vm.contains("interpreted mode")) {
            LOG.warning("bertj: the JVM runs interpreted (-Xint), so the Vector API would not be intrinsified; using scalar kernels");
            return ScalarKernels.INSTANCE;
        }
        try {
            Kernels k = (Kernels) Class.forName("dev.bertj.cpu.VectorKernels").getDeclaredConstructor().newInstance();
            if (k.name().equals("vector-64")) {
                LOG.warning("bertj: the preferred vector width is 64 bits, too narrow to help; using scalar kernels");
                return ScalarKernels.INSTANCE;
            }
            return k;
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.warning("bertj: the Vector API could not be loaded (" + e + "); falling back to scalar kernels");
            return ScalarKernels.INSTANCE;
        }
    }
}
