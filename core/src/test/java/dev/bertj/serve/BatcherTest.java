package dev.bertj.serve;

import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batcher on a fake forward that answers each row with a function of its own ids only, so a wrong
 * row, a row padded into another's answer, or a lost request shows as a wrong value.
 */
class BatcherTest {
    /** Per row: {sum of its real ids, its real length, the batch's padded length}; padding (mask 0) is ignored. */
    static float[][] echo(Batch b) {
        float[][] out = new float[b.batchSize()][];
        for (int r = 0; r < b.batchSize(); r++) {
            float sum = 0;
            int len = 0;
            for (int t = 0; t < b.seqLen(); t++) {
                if (b.attentionMask()[r * b.seqLen() + t] == 1) {
                    sum += b.inputIds()[r * b.seqLen() + t];
                    len++;
                }
            }
            out[r] = new float[] {sum, len, b.seqLen()};
        }
        return out;
    }

    static int[] ids(int len, int base) {
        int[] a = new int[len];
        for (int i = 0; i < len; i++) a[i] = base + i;
        return a;
    }

    @Test
    void everyInputGetsItsOwnRowFromConcurrentCallers() throws Exception {
        Metrics m = new Metrics();
        List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
        Batcher.Forward f = b -> {
            batchSizes.add(b.batchSize());
            return echo(b);
        };
        try (Batcher batcher = new Batcher(4096, 32, 0, m)) {
            int threads = 16, each = 50;
            List<Thread> ts = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                int tt = t;
                ts.add(Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            int len = 1 + (tt * 31 + i * 7) % 120, base = tt * 1000 + i;
                            float[] row = batcher.submit(f, ids(len, base), new int[len]).get(30, TimeUnit.SECONDS);
                            float want = 0;
                            for (int x : ids(len, base)) want += x;
                            assertArrayEquals(new float[] {want, len}, new float[] {row[0], row[1]});
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : ts) t.join();
            assertEquals(List.of(), failures);
            assertEquals(threads * each, m.queuedInputs(), "every input passed through the queue once");
            assertEquals(threads * each, batchSizes.stream().mapToInt(Integer::intValue).sum());
            assertTrue(batchSizes.stream().anyMatch(s -> s > 1), "concurrent inputs shared passes: " + batchSizes);
            assertTrue(batchSizes.stream().allMatch(s -> s <= 32), "at most 32 rows a pass");
        }
    }

    @Test
    void passesStayWithinTheTokenBudgetAndSimilarLengths() throws Exception {
        List<int[]> shapes = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch gate = new CountDownLatch(1);
        Batcher.Forward blocker = b -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
            return echo(b);
        };
        Batcher.Forward f = b -> {
            int real = 0;
            for (int x : b.attentionMask()) real += x;
            shapes.add(new int[] {b.batchSize(), b.seqLen(), real});
            return echo(b);
        };
        try (Batcher batcher = new Batcher(256, 32, 0, new Metrics())) {
            CompletableFuture<float[]> first = batcher.submit(blocker, ids(3, 1), new int[3]); // holds the loop while the queue fills
            List<CompletableFuture<float[]>> rest = new ArrayList<>();
            int[] lens = {100, 4, 5, 100, 6, 90, 3, 7, 8, 120};
            Thread.sleep(50);
            for (int len : lens) rest.add(batcher.submit(f, ids(len, 0), new int[len]));
            assertEquals(lens.length, batcher.queueDepth());
            gate.countDown();
            first.get(10, TimeUnit.SECONDS);
            for (int i = 0; i < lens.length; i++) assertEquals(lens[i], (int) rest.get(i).get(10, TimeUnit.SECONDS)[1]);
            assertTrue(shapes.size() > 1, "the budget splits the queue");
            for (int[] s : shapes) {
                assertTrue(s[0] * s[1] <= 256, "padded tokens within the budget: " + s[0] + " x " + s[1]);
                // Sorted and cut by length: padding never exceeds the real tokens (plus a pass's worth of slack).
                assertTrue(s[0] * s[1] <= 2 * s[2] + 64, s[0] + " x " + s[1] + " for " + s[2] + " real tokens");
            }
        }
    }

    @Test
    void aFailingPassFailsOnlyItsOwnInputsAndTheLoopGoesOn() throws Exception {
        Metrics m = new Metrics();
        // "Out of memory" on any pass that holds the poisoned input (id 999), as a huge batch would.
        Batcher.Forward f = b -> {
            for (int id : b.inputIds()) if (id == 999) throw new OutOfMemoryError("Java heap space");
            return echo(b);
        };
        try (Batcher batcher = new Batcher(64, 32, 0, m)) {
            CompletableFuture<float[]> poisoned = batcher.submit(f, new int[] {999, 1, 2, 3, 4, 5, 6, 7, 8, 9}, new int[10]);
            ExecutionException e = assertThrows(ExecutionException.class, () -> poisoned.get(10, TimeUnit.SECONDS));
            ServeException se = assertInstanceOf(ServeException.class, e.getCause());
            assertEquals(ServeException.Type.Backend, se.type());
            assertTrue(se.getMessage().contains("out of memory"), se.getMessage());
            assertTrue(batcher.isRunning(), "the loop survives");
            assertEquals(3f, batcher.submit(f, new int[] {1, 2}, new int[2]).get(10, TimeUnit.SECONDS)[0]);
            // A failing job fails its own future only.
            CompletableFuture<Object> job = batcher.submitTask(() -> {
                throw new IllegalStateException("boom");
            });
            assertInstanceOf(ServeException.class, assertThrows(ExecutionException.class, () -> job.get(10, TimeUnit.SECONDS)).getCause());
            assertEquals("ok", batcher.submitTask(() -> "ok").get(10, TimeUnit.SECONDS));
            assertTrue(m.prometheus().contains("bertj_batch_failures_total 2"), m.prometheus());
        }
    }

    @Test
    void closeAnswersWhatWasQueuedThenRefusesNewWork() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Batcher.Forward slow = b -> {
            started.countDown();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
            return echo(b);
        };
        Batcher batcher = new Batcher(64, 1, 0, new Metrics());
        CompletableFuture<float[]> a = batcher.submit(slow, new int[] {5}, new int[1]);
        started.await();
        CompletableFuture<float[]> b = batcher.submit(slow, new int[] {6}, new int[1]);
        batcher.close(10_000);
        assertEquals(5f, a.getNow(null)[0]);
        assertEquals(6f, b.getNow(null)[0], "queued before close: answered");
        assertTrue(!batcher.isRunning());
        ServeException e = assertThrows(ServeException.class, () -> batcher.submit(slow, new int[] {1}, new int[1]));
        assertEquals(ServeException.Type.Unhealthy, e.type());
    }

    @Test
    void anInputLongerThanTheBudgetIsRefusedUpFront() {
        try (Batcher batcher = new Batcher(16, 32, 0, new Metrics())) {
            ServeException e = assertThrows(ServeException.class, () -> batcher.submit(BatcherTest::echo, new int[17], new int[17]));
            assertEquals(413, e.type().status());
        }
    }
}
