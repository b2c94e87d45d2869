package dev.bertj.serve;

import dev.bertj.tokenizer.Batch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Dynamic batching, as TEI's router does it: callers tokenize on their own threads and {@link #submit}
 * token ids; one inference loop (a single platform thread, so the model's per-thread arena exists
 * once) takes the queued inputs in arrival order up to {@code maxBatchTokens} padded tokens, sorts
 * them by length, runs them as few forward passes of similar lengths (at most {@code maxBatchRows}
 * rows each, so padding stays small), and completes each input's own future with its own row.
 *
 * <p>Inputs of different {@link Forward}s (embeddings, classification) are never mixed in one pass.
 * A pass that throws, even an {@link OutOfMemoryError}, fails only the inputs in it; the loop goes
 * on. {@link #submitTask} runs a whole job (fill-mask) on the loop between passes.
 *
 * <p>Usable without HTTP: {@link EmbeddingService} is built on it, and other integrations can submit
 * their own {@link Forward}.
 */
public final class Batcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Batcher.class.getName());

    /** One forward over a padded batch: one result row per batch row, in order. */
    @FunctionalInterface
    public interface Forward {
        /** Runs the model on {@code batch}; returns {@code batch.batchSize()} rows. */
        float[][] run(Batch batch);
    }

    /** A queued input, or (with {@code task} set) a whole job. */
    private static final class Item {
        final Forward forward;
        final int[] ids;
        final int[] types;
        final Callable<?> task;
        final CompletableFuture<Object> result = new CompletableFuture<>();
        final long enqueuedNanos = System.nanoTime();

        Item(Forward forward, int[] ids, int[] types, Callable<?> task) {
            this.forward = forward;
            this.ids = ids;
            this.types = types;
            this.task = task;
        }

        int length() {
            return ids.length;
        }
    }

    private final int maxBatchTokens;
    private final int maxBatchRows;
    private final int padId;
    private final Metrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final LinkedList<Item> queue = new LinkedList<>(); // O(1) removal while picking one Forward's items
    private final Thread loop;
    private boolean closing;

    /**
     * Starts the inference loop.
     *
     * @param maxBatchTokens most padded tokens ({@code rows x longest}) taken from the queue at once
     * @param maxBatchRows most rows in one forward pass
     * @param padId the tokenizer's padding id
     * @param metrics where queue and batch statistics go
     */
    public Batcher(int maxBatchTokens, int maxBatchRows, int padId, Metrics metrics) {
        if (maxBatchTokens < 1 || maxBatchRows < 1) throw new IllegalArgumentException("maxBatchTokens and maxBatchRows must be positive");
        this.maxBatchTokens = maxBatchTokens;
        this.maxBatchRows = maxBatchRows;
        this.padId = padId;
        this.metrics = metrics;
        this.loop = Thread.ofPlatform().name("bertj-inference").daemon(true).unstarted(this::runLoop);
        loop.start();
    }

    /**
     * Queues one input ({@code ids} and {@code typeIds} of equal length, unpadded) for {@code forward};
     * the future completes with its row, or with a {@link ServeException} of type Backend when its pass failed.
     *
     * @throws ServeException of type Unhealthy once {@link #close} has begun
     */
    @SuppressWarnings("unchecked")
    public CompletableFuture<float[]> submit(Forward forward, int[] ids, int[] typeIds) {
        if (ids.length == 0 || ids.length != typeIds.length) throw new IllegalArgumentException("ids and typeIds must be non-empty and of equal length");
        if (ids.length > maxBatchTokens) {
            throw new ServeException(ServeException.Type.TooLarge, "an input of " + ids.length + " tokens exceeds max batch tokens " + maxBatchTokens);
        }
        Item item = new Item(forward, ids, typeIds, null);
        enqueue(item);
        return (CompletableFuture<float[]>) (CompletableFuture<?>) item.result;
    }

    /** Runs {@code task} on the inference loop, between forward passes; a failure fails only its future. */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<T> submitTask(Callable<T> task) {
        Item item = new Item(null, new int[0], new int[0], task);
        enqueue(item);
        return (CompletableFuture<T>) item.result;
    }

    private void enqueue(Item item) {
        lock.lock();
        try {
            if (closing) throw new ServeException(ServeException.Type.Unhealthy, "the server is stopping");
            queue.addLast(item);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Inputs and jobs waiting for the loop. */
    public int queueDepth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the inference loop is alive (it ends only after {@link #close}). */
    public boolean isRunning() {
        return loop.isAlive();
    }

    /**
     * Stops accepting work, lets the loop finish everything already queued, and waits for it (at
     * most {@code timeoutMillis}).
     */
    public void close(long timeoutMillis) {
        lock.lock();
        try {
            closing = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            loop.join(Math.max(1, timeoutMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #close(long)} with 30 seconds. */
    @Override
    public void close() {
        close(30_000);
    }

    private void runLoop() {
        while (true) {
            List<Item> picked;
            try {
                picked = take();
            } catch (InterruptedException e) {
                continue; // only close() ends the loop, so that no queued request is left unanswered
            }
            if (picked == null) return;
            try {
                if (picked.getFirst().task != null) runTask(picked.getFirst());
                else runPasses(picked);
            } catch (Throwable t) {
                // A defect here must not kill the loop: fail what was picked and go on.
                LOG.log(Level.SEVERE, "inference loop", t);
                for (Item i : picked) i.result.completeExceptionally(backendError(t));
            }
        }
    }

    /** Waits for work; returns a job alone, or the oldest input and what can join it; null when closed and drained. */
    private List<Item> take() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (closing) return null;
                work.await(1, TimeUnit.SECONDS);
            }
            Item head = queue.removeFirst();
            List<Item> picked = new ArrayList<>();
            picked.add(head);
            if (head.task != null) return picked;
            int longest = head.length();
            for (Iterator<Item> it = queue.iterator(); it.hasNext(); ) {
                Item i = it.next();
                if (i.task != null || i.forward != head.forward) continue;
                int l = Math.max(longest, i.length());
                if ((long) (picked.size() + 1) * l > maxBatchTokens) break;
                longest = l;
                picked.add(i);
                it.remove();
            }
            return picked;
        } finally {
            lock.unlock();
        }
    }

    private void runTask(Item item) {
        long start = System.nanoTime();
        metrics.queued((start - item.enqueuedNanos) / 1e9);
        try {
            item.result.complete(item.task.call());
        } catch (ServeException e) {
            item.result.completeExceptionally(e);
        } catch (Throwable t) {
            metrics.batchFailed();
            LOG.log(Level.WARNING, "a fill-mask job failed", t);
            item.result.completeExceptionally(backendError(t));
        }
        metrics.batch(1, 0, (System.nanoTime() - start) / 1e9);
    }

    /** Sorts by length and runs passes of similar lengths, cutting where padding would exceed the real tokens. */
    private void runPasses(List<Item> picked) {
        long now = System.nanoTime();
        for (Item i : picked) metrics.queued((now - i.enqueuedNanos) / 1e9);
        picked.sort(Comparator.comparingInt(Item::length));
        int from = 0;
        long real = 0;
        for (int k = 0; k < picked.size(); k++) {
            int rows = k - from, len = picked.get(k).length();
            boolean full = rows == maxBatchRows;
            boolean wasteful = rows > 0 && (long) (rows + 1) * len > 2 * (real + len) + 64;
            if (full || wasteful) {
                runPass(picked.subList(from, k));
                from = k;
                real = 0;
            }
            real += len;
        }
        runPass(picked.subList(from, picked.size()));
    }

    private void runPass(List<Item> items) {
        int b = items.size(), s = items.getLast().length(); // sorted: the last is the longest
        long start = System.nanoTime();
        try {
            int[] ids = new int[b * s], types = new int[b * s], mask = new int[b * s];
            Arrays.fill(ids, padId);
            for (int r = 0; r < b; r++) {
                Item i = items.get(r);
                System.arraycopy(i.ids, 0, ids, r * s, i.length());
                System.arraycopy(i.types, 0, types, r * s, i.length());
                Arrays.fill(mask, r * s, r * s + i.length(), 1);
            }
            float[][] rows = items.getFirst().forward.run(new Batch(b, s, ids, types, mask, null));
            if (rows.length != b) throw new IllegalStateException("a forward returned " + rows.length + " rows for " + b);
            metrics.batch(b, b * s, (System.nanoTime() - start) / 1e9);
            for (int r = 0; r < b; r++) items.get(r).result.complete(rows[r]);
        } catch (Throwable t) {
            metrics.batchFailed();
            LOG.log(Level.WARNING, "a forward pass of " + b + " x " + s + " tokens failed; its " + b + " inputs get an error", t);
            for (Item i : items) i.result.completeExceptionally(backendError(t));
        }
    }

    private static ServeException backendError(Throwable t) {
        String what = t instanceof OutOfMemoryError ? "out of memory" : t.getClass().getSimpleName();
        return new ServeException(ServeException.Type.Backend, "inference failed on this request's batch (" + what + ")", t);
    }
}
