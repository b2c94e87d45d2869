package dev.bertj.model;

import dev.bertj.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.logging.Logger;

/**
 * Hands each module its weights by Hugging Face name, checking shapes against the config.
 * A weight the checkpoint lacks is initialised as HF's {@code _init_weights} does (Linear and
 * Embedding N(0, initializer_range) from a seeded generator, biases 0, LayerNorm 1 and 0), with a
 * warning naming it. Every weight handed out is recorded, in order, as the model's parameters.
 */
final class WeightSource {
    private static final Logger LOG = Logger.getLogger(WeightSource.class.getName());

    private final Map<String, Tensor> loaded;
    private final String source;
    private final float std;
    private final SplittableRandom random;
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final List<String> initialised = new ArrayList<>();

    WeightSource(Map<String, Tensor> loaded, String source, float initializerRange, long seed) {
        this.loaded = loaded;
        this.source = source;
        this.std = initializerRange;
        this.random = new SplittableRandom(seed);
    }

    /** Kinds of initialisation for missing weights. */
    enum Init { NORMAL, ZEROS, ONES }

    Tensor get(String name, Init init, int... shape) {
        Tensor t = loaded.get(name);
        if (t == null) {
            t = Tensor.zeros(shape);
            float[] d = t.data();
            switch (init) {
                case NORMAL -> { for (int i = 0; i < d.length; i++) d[i] = (float) (random.nextGaussian() * std); }
                case ONES -> Arrays.fill(d, 1f);
                case ZEROS -> { }
            }
            initialised.add(name);
        } else if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(source + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but config.json implies " + Arrays.toString(shape));
        }
        parameters.put(name, t);
        return t;
    }

    /** The weights handed out, by name, in module order. */
    Map<String, Tensor> parameters() {
        return parameters;
    }

    /** Names initialised because the checkpoint lacked them; logs HF's warning once. */
    List<String> finish() {
        return finish(name -> false);
    }

    /**
     * As {@link #finish()}, leaving out of the warning the names {@code later} accepts: weights whose
     * use is optional (the pooler, which mean and CLS pooling never run) are warned about by
     * {@link #warn} when something uses them.
     */
    List<String> finish(java.util.function.Predicate<String> later) {
        warn(source, initialised.stream().filter(later.negate()).toList());
        return List.copyOf(initialised);
    }

    /** The name of the checkpoint the weights come from, for messages. */
    String source() {
        return source;
    }

    /** HF's warning for weights {@code source} lacked (nothing for none). */
    static void warn(String source, List<String> names) {
        if (names.isEmpty()) return;
        LOG.warning("Some weights of the model were not found in " + source + " and are newly initialized: " + names
                + "\nYou should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.");
    }
}
