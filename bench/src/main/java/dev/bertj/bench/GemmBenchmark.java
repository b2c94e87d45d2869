package dev.bertj.bench;

import dev.bertj.cpu.Kernels;
import dev.bertj.cpu.PackedWeight;
import dev.bertj.cpu.Vectorization;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * bertj's GEMM on BERT's Linear shapes (M = tokens, {@code shape} = K x N: MiniLM/bge-small's
 * fused QKV, attention output, FFN up and down, then BERT-base's) and, in the same run, the FMA
 * peak: 8 independent FMA chains per thread, one thread per core. Both report GFLOP/s as the
 * {@code gflop} counter (ops per second); {@code linear} uses the weight packed once, as the model does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class GemmBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int PEAK_ITERATIONS = 10_000;

    @Param({"4096"})
    public int m;
    @Param({"384x1152", "384x384", "384x1536", "1536x384", "768x2304", "768x768", "768x3072", "3072x768"})
    public String shape;

    private int k, n;
    private float[] x, b, y;
    private PackedWeight w;
    private final Kernels kernels = Vectorization.kernels();

    /** GFLOP done, reported by JMH per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        String[] kn = shape.split("x");
        k = Integer.parseInt(kn[0]);
        n = Integer.parseInt(kn[1]);
        Random r = new Random(1);
        x = new float[m * k];
        float[] weight = new float[n * k];
        b = new float[n];
        y = new float[m * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat() - 0.5f;
        for (int i = 0; i < weight.length; i++) weight[i] = r.nextFloat() - 0.5f;
        w = kernels.pack(weight, n, k);
    }

    @Benchmark
    public float[] linear(Flops f) {
        kernels.linear(x, m, w, b, y);
        f.gflop += 2.0 * m * k * n / 1e9;
        return y;
    }

    /** Per-thread FMA throughput on registers, on every core at once: the machine's peak. */
    @Benchmark
    @Threads(Threads.MAX)
    public float fmaPeak(Flops f) {
        FloatVector a = FloatVector.broadcast(F, 1.0001f), c = FloatVector.broadcast(F, 0.9999f);
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int i = 0; i < PEAK_ITERATIONS; i++) {
            s0 = a.fma(c, s0); s1 = a.fma(c, s1); s2 = a.fma(c, s2); s3 = a.fma(c, s3);
            s4 = a.fma(c, s4); s5 = a.fma(c, s5); s6 = a.fma(c, s6); s7 = a.fma(c, s7);
        }
        f.gflop += 8.0 * PEAK_ITERATIONS * 2 * F.length() / 1e9;
        return s0.add(s1).add(s2).add(s3).add(s4).add(s5).add(s6).add(s7).lane(0);
    }
}
