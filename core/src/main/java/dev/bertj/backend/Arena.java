package dev.bertj.backend;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Activation buffers of one thread's passes, reused from one pass to the next. A training step
 * keeps about 1.5 GB of activations alive (MiniLM, 32 x 128) until its backward ends; allocated
 * afresh each step they cost the JVM zeroing, page faults and collections (more than the forward
 * math, measured), and on a GPU a cudaMalloc/cudaFree pair each.
 *
 * <p>{@link #begin} starts a pass: the buffers of the pass before become free for this one, and
 * free buffers the pass before did not use are released, so memory stays at one pass's worth (two
 * while batch shapes change). A layer's backward hands its temporaries back as soon as it is done
 * ({@link #release}). Backends allocate from the thread's {@link #active()} arena.
 */
public final class Arena implements AutoCloseable {
    /** How an arena gets and returns its backend's buffers. */
    public interface Allocator {
        /** A new float buffer of {@code n}. */
        Buf floats(int n);

        /** A new mask of {@code n}. */
        Mask mask(int n);

        /** Releases a buffer or mask this allocator made (device memory; nothing on the CPU). */
        void free(Object bufferOrMask);
    }

    private static final ThreadLocal<Arena> ACTIVE = new ThreadLocal<>();
    private final Allocator allocator;
    private final Map<Integer, ArrayDeque<Object>> free = new HashMap<>();
    /** Buffers handed out since {@link #begin}, in order (for {@link #release}). */
    private ArrayList<Object> used = new ArrayList<>();
    /** Size keys asked for since {@link #begin}. */
    private final Set<Integer> requested = new HashSet<>();

    /** An arena over {@code allocator}'s buffers. */
    public Arena(Allocator allocator) {
        this.allocator = allocator;
    }

    /** The calling thread's active arena, or null. */
    public static Arena active() {
        return ACTIVE.get();
    }

    /** Recycles the previous pass's buffers (its results must no longer be used) and activates this arena. */
    public void begin() {
        // Free buffers of sizes the last pass never asked for belong to an older batch shape.
        free.entrySet().removeIf(e -> {
            if (requested.contains(e.getKey())) return false;
            for (Object o : e.getValue()) allocator.free(o);
            return true;
        });
        requested.clear();
        for (Object a : used) giveBack(a);
        used = new ArrayList<>();
        ACTIVE.set(this);
    }

    /** Makes this arena the current thread's again (for backward, after other work). */
    public void activate() {
        ACTIVE.set(this);
    }

    /** Leaves the arena; later requests on this thread do not come from it. */
    public static void deactivate() {
        ACTIVE.remove();
    }

    /** A position in the current pass, for {@link #release}. */
    public static int mark() {
        Arena a = ACTIVE.get();
        return a == null ? 0 : a.used.size();
    }

    /**
     * Returns the buffers handed out since {@code mark} to the free list, except {@code keep}: a
     * layer's backward temporaries are dead once it returns its input gradient, so the next layer
     * reuses them and backward needs one layer's worth of scratch, not one per layer.
     */
    public static void release(int mark, Object keep) {
        Arena a = ACTIVE.get();
        if (a == null) return;
        boolean kept = false;
        for (int i = a.used.size() - 1; i >= mark; i--) {
            Object x = a.used.remove(i);
            if (x == keep) kept = true;
            else a.giveBack(x);
        }
        if (kept) a.used.add(keep);
    }

    /** Returns one buffer of the current pass early (inference hands back each layer's input). */
    public static void free(Object buffer) {
        Arena a = ACTIVE.get();
        if (a == null) return;
        for (int i = a.used.size() - 1; i >= 0; i--) {
            if (a.used.get(i) == buffer) {
                a.giveBack(a.used.remove(i));
                return;
            }
        }
    }

    /** A float buffer of {@code n} with undefined contents. */
    public Buf floats(int n) {
        return (Buf) take(n, false);
    }

    /** A mask of {@code n} with undefined contents. */
    public Mask mask(int n) {
        return (Mask) take(n, true);
    }

    /** Whether this arena hands out {@code allocator}'s buffers. */
    public boolean uses(Allocator a) {
        return allocator == a;
    }

    private void giveBack(Object a) {
        free.computeIfAbsent(a instanceof Mask m ? ~m.size() : ((Buf) a).size(), k -> new ArrayDeque<>()).push(a);
    }

    private Object take(int n, boolean mask) {
        // Keyed by exact size and kind: a pass of the same shape reuses every buffer.
        int key = mask ? ~n : n;
        requested.add(key);
        ArrayDeque<Object> q = free.get(key);
        Object a = q == null || q.isEmpty() ? (mask ? allocator.mask(n) : allocator.floats(n)) : q.pop();
        used.add(a);
        return a;
    }

    /** Releases every buffer (on a GPU, its device memory); the arena can be used again afterwards. */
    @Override
    public void close() {
        for (ArrayDeque<Object> q : free.values()) for (Object o : q) allocator.free(o);
        free.clear();
        for (Object o : used) allocator.free(o);
        used = new ArrayList<>();
        requested.clear();
        if (ACTIVE.get() == this) ACTIVE.remove();
    }
}
