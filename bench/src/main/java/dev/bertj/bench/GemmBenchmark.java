package dev.bertj.bench;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.Vectorization;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * bertj's Linear kernel on BERT shapes (M = tokens) and, in the same run, an FMA peak: independent
 * FMA chains on registers, one thread per core. GFLOP/s = 2*M*K*N / time for {@code linear};
 * for {@code fmaPeak} one op is {@link #PEAK_FLOPS} flops per thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class GemmBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Flops of one {@link #fmaPeak} call: 8 chains x 10,000 FMAs x 2 flops x lanes. */
    public static final long PEAK_FLOPS = 8L * 10_000 * 2 * F.length();

    @Param({"4096"})
    public int m;
    @Param({"384", "1536"})
    public int k;
    @Param({"384", "1536"})
    public int n;

    private float[] x, w, b, y;
    private final Kernels kernels = Vectorization.kernels();

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(1);
        x = new float[m * k];
        w = new float[n * k];
        b = new float[n];
        y = new float[m * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat() - 0.5f;
        for (int i = 0; i < w.length; i++) w[i] = r.nextFloat() - 0.5f;
    }

    @Benchmark
    public float[] linear() {
        kernels.linear(x, m, k, w, b, n, y);
        return y;
    }

    /** Per-thread FMA throughput; run with -t equal to the core count for the machine's peak. */
    @Benchmark
    @Threads(Threads.MAX)
    public float fmaPeak() {
        FloatVector a = FloatVector.broadcast(F, 1.0001f), c = FloatVector.broadcast(F, 0.9999f);
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int i = 0; i < 10_000; i++) {
            s0 = a.fma(c, s0); s1 = a.fma(c, s1); s2 = a.fma(c, s2); s3 = a.fma(c, s3);
            s4 = a.fma(c, s4); s5 = a.fma(c, s5); s6 = a.fma(c, s6); s7 = a.fma(c, s7);
        }
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).lane(0);
    }
}
