package dev.bertj.cuda;

import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link PrecisionTests} on a real device's tensor cores; skipped, with the reason, without one. */
class CudaPrecisionTest extends PrecisionTests {
    @BeforeEach
    void needsDevice() {
        Cuda.Status s = Cuda.status();
        assumeTrue(s.available(), s.reason());
    }

    @Override
    CudaBackend backend(Precision p) {
        return CudaBackend.open(0, p);
    }
}
