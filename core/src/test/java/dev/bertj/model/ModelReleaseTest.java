package dev.bertj.model;

import dev.bertj.tokenizer.Batch;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model that is closed, or just dropped, must not stay reachable: not through the worker pool's
 * statics ({@code Parallel}), per-thread arenas of the threads that ran it (the common pool's, a fresh
 * one's), nor the CPU backend's packing caches. Each model here holds ~9.5 MB of weights plus their
 * packed copies and arenas, so one left behind shows in the heap.
 */
class ModelReleaseTest {
    private static final BertConfig CONFIG = BertConfig.of(Map.of("vocab_size", 3000L, "hidden_size", 256L, "num_hidden_layers", 2L,
            "num_attention_heads", 4L, "intermediate_size", 1024L, "max_position_embeddings", 64L));
    private static final long WEIGHT_BYTES = 4L * (3000 * 256 + 64 * 256 + 2 * 256 + 2 * (4 * 256 * 256 + 2 * 256 * 1024));

    private static Batch batch() {
        int b = 8, s = 64;
        int[] ids = new int[b * s], mask = new int[b * s];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + (i * 7919) % 2999;
            mask[i] = i % s < s - i / s ? 1 : 0;
        }
        return new Batch(b, s, ids, new int[b * s], mask, null);
    }

    /** One forward on the calling thread, on the common pool and on a fresh thread that then ends. */
    private static void runEverywhere(BertModel m) throws Exception {
        Batch b = batch();
        m.forward(b);
        ForkJoinPool.commonPool().submit(() -> m.forward(b)).get();
        Thread t = new Thread(() -> m.forward(b));
        t.start();
        t.join();
    }

    private static WeakReference<BertModel> loadRunAndDrop(boolean close, long seed) throws Exception {
        BertModel m = BertModel.of(CONFIG, Map.of(), seed);
        runEverywhere(m);
        if (close) m.close();
        return new WeakReference<>(m);
    }

    /** Heap in use after full collections (several: the first may leave reference processing for the next). */
    private static long usedAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(20);
            Runtime rt = Runtime.getRuntime();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    @Test
    void aDroppedModelIsCollectedClosedOrNot() throws Exception {
        for (boolean close : new boolean[] {false, true}) {
            WeakReference<BertModel> ref = loadRunAndDrop(close, 1);
            for (int i = 0; i < 10 && ref.get() != null; i++) usedAfterGc();
            assertNull(ref.get(), "a model run on the caller, the common pool and a fresh thread, then dropped" + (close ? " after close()" : "")
                    + ", is still reachable");
        }
    }

    @Test
    void twentyModelsLoadedRunAndClosedLeaveTheHeapAtItsBaseline() throws Exception {
        loadRunAndDrop(true, 0); // the pools' threads and their scratch arrays exist from here on
        long baseline = usedAfterGc();
        for (int i = 0; i < 20; i++) loadRunAndDrop(true, i + 1);
        long after = usedAfterGc();
        System.out.printf("ModelReleaseTest: heap after full GC: baseline %.1f MB, after 20 models loaded, run and closed %.1f MB"
                + " (one model's weights: %.1f MB)%n", baseline / 1e6, after / 1e6, WEIGHT_BYTES / 1e6);
        assertTrue(after - baseline < WEIGHT_BYTES / 2, "retained " + (after - baseline) / 1e6 + " MB more than the baseline "
                + baseline / 1e6 + " MB; one model's weights are " + WEIGHT_BYTES / 1e6 + " MB");
    }

    @Test
    void aClosedModelRefusesToRunInOneSentence() throws Exception {
        BertModel m = BertModel.of(CONFIG, Map.of(), 3);
        m.forward(batch());
        m.close();
        m.close(); // idempotent
        assertTrue(m.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(batch()));
        assertEquals("BertModel.forward: the model was closed", e.getMessage());
    }
}
