package dev.bertj.model;

import dev.bertj.backend.Activation;
import dev.bertj.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's {@code BertConfig}: the fields bertj uses, typed, plus every other key of
 * config.json kept as it was, so a read-write round trip loses nothing. Immutable; change a copy
 * with {@link #with(String, Object)}.
 */
public final class BertConfig {
    /**
     * Limits on the sizes a config.json may give, checked when it is read, before a model allocates
     * anything from them: a 300-byte file could otherwise ask for minutes of initialising (34,243
     * layers) or terabytes of weights. Each is far beyond any published BERT (BERT-large: 24 layers,
     * hidden 1024, intermediate 4096, 30,522 tokens, 512 positions).
     */
    public static final int MAX_LAYERS = 256, MAX_HIDDEN_SIZE = 1 << 16, MAX_INTERMEDIATE_SIZE = 1 << 18,
            MAX_VOCAB_SIZE = 1 << 24, MAX_POSITIONS = 1 << 20, MAX_TYPE_VOCAB_SIZE = 1 << 16;
    /** Most parameters a config may imply: 2^32 (17 GB of float32), about 13 times BERT-large. */
    public static final long MAX_PARAMETERS = 1L << 32;
    /** Largest config.json read: real ones are a few KB, tens of MB with a huge id2label. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    private final Map<String, Object> json;

    private BertConfig(Map<String, Object> json) {
        this.json = json;
        validate();
    }

    /** bert-base-uncased's values, HF's BertConfig defaults. */
    public static BertConfig defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("BertModel"));
        m.put("attention_probs_dropout_prob", 0.1);
        m.put("classifier_dropout", null);
        m.put("hidden_act", "gelu");
        m.put("hidden_dropout_prob", 0.1);
        m.put("hidden_size", 768L);
        m.put("initializer_range", 0.02);
        m.put("intermediate_size", 3072L);
        m.put("layer_norm_eps", 1e-12);
        m.put("max_position_embeddings", 512L);
        m.put("model_type", "bert");
        m.put("num_attention_heads", 12L);
        m.put("num_hidden_layers", 12L);
        m.put("pad_token_id", 0L);
        m.put("position_embedding_type", "absolute");
        m.put("type_vocab_size", 2L);
        m.put("vocab_size", 30522L);
        return new BertConfig(m);
    }

    /** Reads config.json; missing keys take HF's defaults. */
    public static BertConfig read(Path file) throws IOException {
        String src = file.toString();
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(String.format("%s: %,d bytes is more than the limit of %,d bytes for a config.json",
                    src, size, MAX_FILE_BYTES));
        }
        String text;
        try {
            text = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            // Files.readString's MalformedInputException says only "Input length = 1", naming no file.
            throw new IllegalArgumentException(src + ": not valid UTF-8", e);
        }
        Map<String, Object> parsed = Json.asObject(Json.parse(text, src), src);
        Map<String, Object> m = new LinkedHashMap<>(defaults().json);
        m.putAll(parsed);
        try {
            return new BertConfig(m);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(src + ": " + e.getMessage(), e);
        }
    }

    /** Builds from a map of config.json keys (missing keys take HF's defaults). */
    public static BertConfig of(Map<String, Object> values) {
        Map<String, Object> m = new LinkedHashMap<>(defaults().json);
        m.putAll(values);
        return new BertConfig(m);
    }

    /** Writes config.json (2-space indent, like HF's save_pretrained), atomically. */
    public void write(Path file) throws IOException {
        dev.bertj.io.AtomicFiles.writeString(file, Json.writePretty(json) + "\n");
    }

    /** A copy with one key set (any config.json key, known or not). */
    public BertConfig with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(json);
        m.put(key, value instanceof Integer i ? Long.valueOf(i) : value);
        return new BertConfig(m);
    }

    /** All keys, as config.json holds them (an unmodifiable view). */
    public Map<String, Object> toMap() {
        return java.util.Collections.unmodifiableMap(json);
    }

    /** config.json text. */
    public String toJson() {
        return Json.writePretty(json);
    }

    private int intValue(String key) {
        long v = Json.asLong(json.get(key), key);
        if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException(key + " = " + v + " is out of range");
        return (int) v;
    }

    private double doubleValue(String key) {
        return Json.asDouble(json.get(key), key);
    }

    public int vocabSize() { return intValue("vocab_size"); }
    public int hiddenSize() { return intValue("hidden_size"); }
    public int numHiddenLayers() { return intValue("num_hidden_layers"); }
    public int numAttentionHeads() { return intValue("num_attention_heads"); }
    public int intermediateSize() { return intValue("intermediate_size"); }
    public int maxPositionEmbeddings() { return intValue("max_position_embeddings"); }
    public int typeVocabSize() { return intValue("type_vocab_size"); }
    public String hiddenAct() { return Json.asString(json.get("hidden_act"), "hidden_act"); }
    /** {@link #hiddenAct()} as the activation the layers run. */
    public Activation activation() { return Activation.of(hiddenAct()); }
    public float layerNormEps() { return (float) doubleValue("layer_norm_eps"); }
    public float hiddenDropoutProb() { return (float) doubleValue("hidden_dropout_prob"); }
    public float attentionProbsDropoutProb() { return (float) doubleValue("attention_probs_dropout_prob"); }
    public float initializerRange() { return (float) doubleValue("initializer_range"); }
    public int padTokenId() { return intValue("pad_token_id"); }

    /** HF's classifier_dropout, falling back to hidden_dropout_prob when null. */
    public float classifierDropout() {
        Object v = json.get("classifier_dropout");
        return v == null ? hiddenDropoutProb() : (float) Json.asDouble(v, "classifier_dropout");
    }

    /** id2label with int keys (config.json writes them as strings); empty when absent. */
    public Map<Integer, String> id2label() {
        Map<Integer, String> out = new LinkedHashMap<>();
        Object v = json.get("id2label");
        if (v == null) return out;
        for (Map.Entry<String, Object> e : Json.asObject(v, "id2label").entrySet()) {
            try {
                out.put(Integer.parseInt(e.getKey()), Json.asString(e.getValue(), "id2label[" + e.getKey() + "]"));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("id2label key '" + e.getKey() + "' is not an integer");
            }
        }
        return out;
    }

    /** label2id; empty when absent. */
    public Map<String, Integer> label2id() {
        Map<String, Integer> out = new LinkedHashMap<>();
        Object v = json.get("label2id");
        if (v == null) return out;
        for (Map.Entry<String, Object> e : Json.asObject(v, "label2id").entrySet()) {
            out.put(e.getKey(), (int) Json.asLong(e.getValue(), "label2id[" + e.getKey() + "]"));
        }
        return out;
    }

    /** A copy with id2label and label2id set from labels in id order, as HF writes them. */
    public BertConfig withLabels(List<String> labels) {
        Map<String, Object> id2label = new LinkedHashMap<>();
        Map<String, Object> label2id = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), (long) i);
        }
        return with("id2label", id2label).with("label2id", label2id);
    }

    /** The architectures list, e.g. ["BertForSequenceClassification"]. */
    public List<Object> architectures() {
        Object v = json.get("architectures");
        return v == null ? List.of() : Json.asArray(v, "architectures");
    }

    private void validate() {
        int h = hiddenSize(), heads = numAttentionHeads();
        if (h <= 0 || heads <= 0 || h % heads != 0) {
            throw new IllegalArgumentException("hidden_size " + h + " is not a multiple of num_attention_heads " + heads);
        }
        for (String k : List.of("vocab_size", "num_hidden_layers", "intermediate_size", "max_position_embeddings", "type_vocab_size")) {
            if (intValue(k) <= 0) throw new IllegalArgumentException(k + " must be positive");
        }
        limit("num_hidden_layers", MAX_LAYERS);
        limit("hidden_size", MAX_HIDDEN_SIZE);
        limit("intermediate_size", MAX_INTERMEDIATE_SIZE);
        limit("vocab_size", MAX_VOCAB_SIZE);
        limit("max_position_embeddings", MAX_POSITIONS);
        limit("type_vocab_size", MAX_TYPE_VOCAB_SIZE);
        // Every weight is one float[]: the largest matrices must fit one Java array.
        long hidden = h;
        for (String k : List.of("vocab_size", "max_position_embeddings", "intermediate_size")) {
            if (intValue(k) * hidden > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(String.format("%s %,d x hidden_size %,d = %,d weights, more than one Java array"
                        + " holds (2^31 - 9)", k, intValue(k), h, intValue(k) * hidden));
            }
        }
        long perLayer = 4 * hidden * hidden + 2 * hidden * intermediateSize() + 9 * hidden + intermediateSize();
        long params = (vocabSize() + (long) maxPositionEmbeddings() + typeVocabSize() + 2) * hidden
                + numHiddenLayers() * perLayer + hidden * hidden + hidden;
        if (params > MAX_PARAMETERS) {
            throw new IllegalArgumentException(String.format("the sizes imply %,d parameters, more than the limit of %,d"
                    + " (BertConfig.MAX_PARAMETERS)", params, MAX_PARAMETERS));
        }
        activation(); // an unsupported hidden_act fails here, naming the ones there are
        Object pe = json.get("position_embedding_type");
        if (pe != null && !"absolute".equals(pe)) {
            throw new IllegalArgumentException("position_embedding_type '" + pe + "' is not supported (absolute only)");
        }
        if (!(layerNormEps() > 0) || Float.isInfinite(layerNormEps())) {
            throw new IllegalArgumentException("layer_norm_eps must be a positive number, got " + json.get("layer_norm_eps"));
        }
        // Every typed field is read once here, so a wrong type or value is reported with the file's name when
        // it is read, not later from inside the model.
        for (String k : List.of("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")) {
            Object v = json.get(k);
            if (v == null && k.equals("classifier_dropout")) continue;
            double p = Json.asDouble(v, k);
            if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(k + " must be a probability in [0, 1], got " + v);
        }
        double range = doubleValue("initializer_range");
        if (!(range >= 0) || Double.isInfinite(range)) {
            throw new IllegalArgumentException("initializer_range must be a non-negative number, got " + json.get("initializer_range"));
        }
        padTokenId();
        id2label();
        label2id();
    }

    private void limit(String key, int max) {
        int v = intValue(key);
        if (v > max) throw new IllegalArgumentException(String.format("%s = %,d is more than the limit of %,d", key, v, max));
    }
}
