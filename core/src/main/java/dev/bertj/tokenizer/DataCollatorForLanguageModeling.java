package dev.bertj.tokenizer;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * HF's {@code DataCollatorForLanguageModeling} with {@code mlm=True}: pads a list of encodings to the
 * longest (as {@link DataCollatorWithPadding}) and picks the tokens a masked-LM must predict.
 *
 * <pre>
 *   each real token that is not special is selected with probability mlm_probability (0.15);
 *   a selected token becomes [MASK] with probability mask_replace_prob (0.8),
 *                   a random id in [0, vocab size) with probability random_replace_prob (0.1),
 *                   and stays as it is otherwise (0.1);
 *   labels = the original id at selected positions, -100 everywhere else (padding included)
 * </pre>
 *
 * <p>"Special" is HF's {@code get_special_tokens_mask(already_has_special_tokens=True)}: an id among
 * the tokenizer's {@code all_special_ids} ([UNK], [SEP], [PAD], [CLS], [MASK]); padding
 * (attention mask 0) is never selected either. As in HF, the random replacement may be any id of the
 * vocabulary, special ones included.
 *
 * <p><b>Randomness.</b> HF draws from the global torch generator, so its masks depend on everything
 * that drew before. Here they are a pure function of {@code (seed, stream, row)}: row {@code r} of
 * the batch collated with {@code stream} draws from its own SplitMix64 generator seeded from the
 * three, over its real tokens only. The same call always gives the same batch, whatever ran before,
 * so a trainer that numbers its micro-batches (and resumes that numbering) masks every one of them
 * identically after a restart; and a row's masks do not depend on how far its batch-mates pad it.
 * The generator differs from torch's, so the masks are HF's rule, not HF's draws.
 */
public final class DataCollatorForLanguageModeling {
    /** The label of a position with nothing to predict (PyTorch's {@code ignore_index}). */
    public static final int IGNORE_INDEX = -100;

    private final BertTokenizer tokenizer;
    private final EncodeOptions padding;
    private final double mlmProbability;
    private final double maskReplaceProb;
    private final double randomReplaceProb;

    /** HF's defaults: 15% selected, of those 80% [MASK], 10% random, 10% kept; padding to the longest, on the right. */
    public DataCollatorForLanguageModeling(BertTokenizer tokenizer) {
        this(tokenizer, 0.15, 0.8, 0.1);
    }

    /**
     * @param mlmProbability the share of real, non-special tokens selected for prediction, in [0, 1]
     * @param maskReplaceProb the share of selected tokens replaced by [MASK], in [0, 1]
     * @param randomReplaceProb the share of selected tokens replaced by a random id, in [0, 1];
     *     {@code maskReplaceProb + randomReplaceProb} must not exceed 1 (HF's check)
     */
    public DataCollatorForLanguageModeling(BertTokenizer tokenizer, double mlmProbability, double maskReplaceProb, double randomReplaceProb) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.padding = EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST).build();
        // Negated comparisons so that NaN is refused too.
        if (!(mlmProbability >= 0 && mlmProbability <= 1)) throw new IllegalArgumentException("mlm_probability must be in [0, 1], got " + mlmProbability);
        if (!(maskReplaceProb >= 0 && maskReplaceProb <= 1)) throw new IllegalArgumentException("mask_replace_prob must be in [0, 1], got " + maskReplaceProb);
        if (!(randomReplaceProb >= 0 && randomReplaceProb <= 1)) throw new IllegalArgumentException("random_replace_prob must be in [0, 1], got " + randomReplaceProb);
        if (maskReplaceProb + randomReplaceProb > 1) {
            throw new IllegalArgumentException("the sum of mask_replace_prob (" + maskReplaceProb + ") and random_replace_prob ("
                    + randomReplaceProb + ") must not exceed 1");
        }
        this.mlmProbability = mlmProbability;
        this.maskReplaceProb = maskReplaceProb;
        this.randomReplaceProb = randomReplaceProb;
    }

    /** The share of tokens selected for prediction. */
    public double mlmProbability() {
        return mlmProbability;
    }

    /**
     * Pads {@code encodings} to the longest and masks them: the batch's {@code labels} are per token
     * (length B x S), -100 where there is nothing to predict.
     *
     * @param seed the run's seed
     * @param stream which draw this is (a trainer passes its micro-batch number)
     */
    public Batch collate(List<Encoding> encodings, long seed, long stream) {
        Batch padded = new DataCollatorWithPadding(tokenizer, padding).collate(encodings);
        return mask(padded, seed, stream);
    }

    /**
     * Masks an already padded batch (its row labels, if any, are replaced by per-token labels); see
     * the class comment for the rule and the randomness. {@code batch} is not modified.
     */
    public Batch mask(Batch batch, long seed, long stream) {
        int b = batch.batchSize(), s = batch.seqLen();
        int[] ids = batch.inputIds().clone(), labels = new int[b * s];
        int[] mask = batch.attentionMask();
        SpecialTokens special = tokenizer.specialTokens();
        int vocab = tokenizer.vocabSize();
        for (int r = 0; r < b; r++) {
            SplittableRandom rng = new SplittableRandom(rowSeed(seed, stream, r));
            for (int i = r * s; i < (r + 1) * s; i++) {
                labels[i] = IGNORE_INDEX;
                if (mask[i] == 0 || special.isSpecialId(ids[i])) continue;
                // One draw per candidate token whether or not it is selected, so the selection of a
                // token does not shift the draws of the ones after it.
                if (!(rng.nextDouble() < mlmProbability)) continue;
                labels[i] = ids[i];
                double u = rng.nextDouble();
                if (u < maskReplaceProb) {
                    ids[i] = special.maskId();
                } else if (u < maskReplaceProb + randomReplaceProb) {
                    ids[i] = rng.nextInt(vocab);
                }
            }
        }
        return new Batch(b, s, ids, batch.tokenTypeIds(), mask, labels);
    }

    /**
     * A well-mixed seed for one row: SplittableRandom's sequences for seeds that differ by its gamma
     * overlap, so the three numbers are combined through a 64-bit finaliser rather than added.
     */
    static long rowSeed(long seed, long stream, int row) {
        return mix(mix(mix(seed) ^ stream) ^ row);
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser (the one SplitMix64 uses). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
