package dev.bertj.tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Spreads a batch's texts over the caller and the common pool's workers, one text at a time, longest
 * first. A parallel {@code IntStream} (the previous way) cut the batch into four fixed slices by count
 * (common-pool parallelism 1 on two cores): e-mails differ in size by 1000x, so one slice could hold most
 * of the bytes while the other thread idled, and the batch ran only 1.2x faster than one thread. Taking
 * the next text from a shared counter, largest first, leaves at most one short text of imbalance.
 */
final class BatchScheduler {
    /** Set while helpers may still join; the low bits count the helpers inside. */
    private static final int OPEN = 1 << 30;

    private BatchScheduler() { }

    /** Indices of {@code texts} by decreasing length (chars of text and pair), ties in index order. */
    static int[] longestFirst(List<String> texts, List<String> pairs) {
        int n = texts.size();
        long[] keyed = new long[n];
        for (int i = 0; i < n; i++) {
            String t = texts.get(i), p = pairs == null ? null : pairs.get(i);
            long len = (t == null ? 0 : t.length()) + (p == null ? 0 : p.length());
            keyed[i] = -((len << 31) | (Integer.MAX_VALUE - i)); // ascending sort = longest first, then lowest index
        }
        Arrays.sort(keyed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = Integer.MAX_VALUE - (int) (-keyed[i] & Integer.MAX_VALUE);
        return order;
    }

    /**
     * Runs {@code task} for every index of {@code order}, in that order of taking, on the calling thread
     * and the common pool. Returns when all are done; a failure stops the taking of new items, and of the
     * failures met the one of the lowest index is rethrown (whichever thread met it first).
     */
    static void run(int[] order, IntConsumer task) {
        AtomicInteger next = new AtomicInteger(), state = new AtomicInteger(OPEN);
        Failure failure = new Failure();
        Thread caller = Thread.currentThread();
        Runnable drain = () -> {
            for (int i; (i = next.getAndIncrement()) < order.length; ) {
                try {
                    task.accept(order[i]);
                } catch (RuntimeException | Error e) {
                    failure.record(order[i], e);
                    next.set(order.length);
                }
            }
        };
        int helpers = Math.min(ForkJoinPool.getCommonPoolParallelism(), order.length - 1);
        for (int h = 0; h < helpers; h++) {
            ForkJoinPool.commonPool().execute(() -> {
                // Join only while the region is open: a worker scheduled after the caller finished does nothing.
                for (int s; ; ) {
                    s = state.get();
                    if ((s & OPEN) == 0) return;
                    if (state.compareAndSet(s, s + 1)) break;
                }
                try {
                    drain.run();
                } finally {
                    if (state.decrementAndGet() == 0) LockSupport.unpark(caller);
                }
            });
        }
        drain.run();
        // Close the region, then wait only for helpers that are inside it, finishing their last text.
        state.addAndGet(-OPEN);
        for (int spins = 0; state.get() > 0; spins++) {
            if (spins < 10_000) Thread.onSpinWait();
            else LockSupport.parkNanos(50_000);
        }
        failure.rethrow();
    }

    /** The failure of the lowest index. */
    private static final class Failure {
        private int index = Integer.MAX_VALUE;
        private Throwable error;

        synchronized void record(int i, Throwable e) {
            if (i < index) {
                index = i;
                error = e;
            }
        }

        synchronized void rethrow() {
            if (error instanceof RuntimeException re) throw re;
            if (error instanceof Error e) throw e;
        }
    }
}
