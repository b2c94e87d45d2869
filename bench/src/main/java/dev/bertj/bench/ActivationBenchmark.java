package dev.bertj.bench;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.ScalarKernels;
import dev.bertj.cpu.Vectorization;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * GELU forward and backward on one thread, over a MiniLM layer's intermediate activations at 32 x 128
 * ({@code n} = 4,096 x 1,536 values, N(0, 2^2) so both tails are exercised), the vector kernels and
 * the scalar reference in the same run. Both run in place on a fresh copy each call (the copy is timed
 * too: {@code copy} measures one alone).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ActivationBenchmark {
    @Param({"6291456"})
    public int n;

    private float[] x, y, d0, d;
    private final Kernels vector = Vectorization.kernels();
    private final Kernels scalar = ScalarKernels.INSTANCE;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(7);
        x = new float[n];
        y = new float[n];
        d0 = new float[n];
        d = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * r.nextGaussian());
            d0[i] = (float) r.nextGaussian();
        }
    }

    @Benchmark
    public float[] copy() {
        System.arraycopy(x, 0, y, 0, n);
        return y;
    }

    @Benchmark
    public float[] geluVector() {
        System.arraycopy(x, 0, y, 0, n);
        vector.gelu(y, 0, n);
        return y;
    }

    @Benchmark
    public float[] geluScalar() {
        System.arraycopy(x, 0, y, 0, n);
        scalar.gelu(y, 0, n);
        return y;
    }

    /** {@code d *= gelu'(x)} on a fresh copy of the incoming gradient (repeated products would drift into subnormals). */
    @Benchmark
    public float[] geluBackwardVector() {
        System.arraycopy(d0, 0, d, 0, n);
        vector.geluBackward(x, d, 0, n);
        return d;
    }

    @Benchmark
    public float[] geluBackwardScalar() {
        System.arraycopy(d0, 0, d, 0, n);
        scalar.geluBackward(x, d, 0, n);
        return d;
    }
}
