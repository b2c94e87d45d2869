package dev.bertj.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed pool of {@code threads() - 1} daemon workers plus the calling thread, for the kernels'
 * data parallelism. One region runs at a time: a call made inside a region (a GEMM inside the
 * per-head attention loop) or while another thread's region runs simply runs its tasks inline,
 * so nesting and concurrent callers are safe and never oversubscribe the cores.
 *
 * <p>Why not the common ForkJoinPool: a BERT forward pass makes a few hundred short parallel calls
 * (a GEMM at batch 1 takes ~100 us), so hand-off latency matters; the workers here spin briefly
 * before parking and a region allocates nothing but its task lambda.
 *
 * <p>{@code -Dbertj.threads=N} sets the size (default: available processors).
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, Integer.getInteger("bertj.threads", Runtime.getRuntime().availableProcessors()));
    private static final ReentrantLock REGION = new ReentrantLock();
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    private static final AtomicInteger NEXT = new AtomicInteger();
    /** The region's state: {@link #OPEN} while helpers may still join, plus the number of helpers inside it. */
    private static final AtomicInteger STATE = new AtomicInteger();
    private static final int OPEN = 1 << 30;
    private static volatile IntConsumer body;
    private static volatile int taskCount;
    private static volatile Throwable failure;
    private static volatile Thread caller;

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker("bertj-worker-" + (i + 1));
            WORKERS[i].start();
        }
    }

    private Parallel() { }

    /** Threads a region uses (workers plus the caller). */
    public static int threads() {
        return THREADS;
    }

    /** Whether a call from this thread now would run in parallel. */
    public static boolean available() {
        return THREADS > 1 && !INSIDE.get() && !REGION.isLocked();
    }

    /**
     * Runs {@code task.accept(i)} for every {@code i < tasks}, spread over the pool; returns when
     * all are done and rethrows the first failure.
     */
    public static void forEach(int tasks, IntConsumer task) {
        if (tasks <= 0) return;
        if (tasks == 1 || THREADS == 1 || INSIDE.get() || !REGION.tryLock()) {
            for (int i = 0; i < tasks; i++) task.accept(i);
            return;
        }
        INSIDE.set(true);
        try {
            failure = null;
            caller = Thread.currentThread();
            taskCount = tasks;
            NEXT.set(0);
            int helpers = Math.min(WORKERS.length, tasks - 1);
            body = task;
            STATE.set(OPEN); // helpers may join from here on
            for (int i = 0; i < helpers; i++) WORKERS[i].wake();
            drain(task, tasks);
            // Close the region, then wait only for the helpers inside it, which are finishing a task.
            // A helper the OS has not scheduled yet can no longer join: on a loaded machine waiting
            // for its wake-up cost milliseconds per region, hundreds of times per forward pass.
            STATE.getAndAdd(-OPEN);
            for (int spins = 0; STATE.get() > 0; spins++) {
                if (spins < 20_000) Thread.onSpinWait();
                else LockSupport.parkNanos(50_000);
            }
            Throwable f = failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        } finally {
            // Statics must not keep the task (its lambda holds the caller's arrays), the caller (its
            // thread-locals) or the failure (its stack's objects) reachable once the region is over.
            body = null;
            caller = null;
            failure = null;
            INSIDE.set(false);
            REGION.unlock();
        }
    }

    /** A contiguous slice {@code [from, to)} of a range, and its index among the slices. */
    @FunctionalInterface
    public interface Slice {
        void run(int index, int from, int to);
    }

    /** How many slices {@link #forSlices} cuts {@code n} into: one below {@code serialBelow}, else four per thread. */
    public static int slices(int n, int serialBelow) {
        return n < serialBelow ? 1 : THREADS * 4;
    }

    /**
     * Cuts {@code [0, n)} into {@link #slices} contiguous slices of near-equal size and runs them on
     * the pool: element-wise work (GELU, dropout, AdamW) and row-wise work (LayerNorm).
     */
    public static void forSlices(int n, int serialBelow, Slice body) {
        int count = slices(n, serialBelow);
        forEach(count, i -> body.run(i, (int) ((long) n * i / count), (int) ((long) n * (i + 1) / count)));
    }

    private static void drain(IntConsumer task, int tasks) {
        for (int i; (i = NEXT.getAndIncrement()) < tasks; ) {
            try {
                task.accept(i);
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
        }
    }

    private static final class Worker extends Thread {
        private volatile boolean signalled;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        void wake() {
            signalled = true;
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            INSIDE.set(true);
            while (true) {
                for (int spins = 0; !signalled; spins++) {
                    if (spins < 50_000) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
                signalled = false;
                help();
            }
        }

        /**
         * Runs the region's tasks and signals the caller: a method of its own so that the parked loop's
         * frame holds no reference to the task or the caller between regions.
         */
        private static void help() {
            for (int s; ; ) { // join the region, unless it is closed (its caller did all the work)
                s = STATE.get();
                if ((s & OPEN) == 0) return;
                if (STATE.compareAndSet(s, s + 1)) break;
            }
            Thread c = caller; // read while inside: the region clears it only after every helper left
            try {
                IntConsumer b = body;
                if (b != null) drain(b, taskCount);
            } finally {
                if (STATE.decrementAndGet() == 0) LockSupport.unpark(c); // the last one out of a closed region
            }
        }
    }
}
