package dev.bertj.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Activation arrays of training passes, reused from one step to the next on the same thread.
 * A training step keeps about 1.5 GB of activations alive (MiniLM, 32 x 128) until its backward
 * ends; allocated afresh each step they cost the JVM zeroing, page faults and collections, which
 * measured more than the forward math itself.
 *
 * <p>{@link BertModel#forwardTrain} starts a pass: the arrays of the pass before become free
 * for this one, and free arrays the pass before did not use are dropped, so memory stays at one
 * pass's worth (two while batch shapes change). Backward hands each layer's temporaries back as
 * soon as the layer is done ({@link #release}). Layers ask through the static methods, which
 * allocate normally when no pass is active (a layer called on its own, as the tests do).
 */
final class Arena {
    private static final ThreadLocal<Arena> ACTIVE = new ThreadLocal<>();
    private Map<Integer, ArrayDeque<Object>> free = new HashMap<>();
    /** Arrays handed out since {@link #begin}, in order (for {@link #release}). */
    private ArrayList<Object> used = new ArrayList<>();
    /** Sizes (keys) asked for since {@link #begin}. */
    private final java.util.Set<Integer> requested = new java.util.HashSet<>();

    /** Recycles the previous pass's arrays (its TrainPass must no longer be used) and activates this arena. */
    void begin() {
        // Free arrays of sizes the last pass never asked for belong to an older batch shape.
        free.keySet().retainAll(requested);
        requested.clear();
        for (Object a : used) giveBack(a);
        used = new ArrayList<>();
        ACTIVE.set(this);
    }

    /** A position in the current pass, for {@link #release}. */
    static int mark() {
        Arena a = ACTIVE.get();
        return a == null ? 0 : a.used.size();
    }

    /**
     * Returns the arrays handed out since {@code mark} to the free list, except {@code keep}: a
     * layer's backward temporaries are dead once it returns its input gradient, so the next layer
     * reuses them and backward needs one layer's worth of scratch, not one per layer.
     */
    static void release(int mark, Object keep) {
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

    private void giveBack(Object a) {
        free.computeIfAbsent(key(a), k -> new ArrayDeque<>()).push(a);
    }

    private static int key(Object a) {
        return a instanceof boolean[] b ? ~b.length : ((float[]) a).length;
    }

    /** Makes this arena the current thread's again (for backward, after other work). */
    void activate() {
        ACTIVE.set(this);
    }

    /** Leaves the arena; later requests on this thread allocate normally. */
    static void deactivate() {
        ACTIVE.remove();
    }

    /** A float array of {@code n} with undefined contents: for results written in full. */
    static float[] floats(int n) {
        Arena a = ACTIVE.get();
        return a == null ? new float[n] : (float[]) a.take(n, false);
    }

    /** A float array of {@code n} zeros. */
    static float[] zeros(int n) {
        Arena a = ACTIVE.get();
        return a == null ? new float[n] : a.zerosHere(n);
    }

    /** A boolean array of {@code n} with undefined contents. */
    static boolean[] bools(int n) {
        Arena a = ACTIVE.get();
        return a == null ? new boolean[n] : (boolean[]) a.take(n, true);
    }

    /** A float array of {@code n} zeros from this arena, whether or not it is active. */
    float[] zerosHere(int n) {
        float[] f = (float[]) take(n, false);
        Arrays.fill(f, 0f);
        return f;
    }

    private Object take(int n, boolean bool) {
        // Key by size and type: sizes are exact, so a pass of the same shape reuses every array.
        requested.add(bool ? ~n : n);
        ArrayDeque<Object> q = free.get(bool ? ~n : n);
        Object a = q == null || q.isEmpty() ? (bool ? new boolean[n] : new float[n]) : q.pop();
        used.add(a);
        return a;
    }
}
