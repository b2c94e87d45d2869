package dev.bertj.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The equivalent of HF's {@code DataCollatorWithPadding}: pads a list of encoded examples to the
 * longest of the batch (dynamic padding) and carries their labels as {@code labels}.
 */
public final class DataCollatorWithPadding {
    private final BertTokenizer tokenizer;
    private final EncodeOptions padding;

    /** Pads to the longest example of each batch, on the right. */
    public DataCollatorWithPadding(BertTokenizer tokenizer) {
        this(tokenizer, EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST).build());
    }

    /** Pads as the padding fields of {@code padding} say (strategy, max length, multiple, side). */
    public DataCollatorWithPadding(BertTokenizer tokenizer, EncodeOptions padding) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.padding = Objects.requireNonNull(padding, "padding");
    }

    /** An encoded example and its label (HF's {@code label}); use {@link #NO_LABEL} when there is none. */
    public record Example(Encoding encoding, int label) {
        /** Checks the encoding is present. */
        public Example {
            Objects.requireNonNull(encoding, "encoding");
        }
    }

    /** Label value meaning "this example has no label". */
    public static final int NO_LABEL = Integer.MIN_VALUE;

    /** Pads encodings without labels. */
    public Batch collate(List<Encoding> encodings) {
        List<Example> ex = new ArrayList<>(encodings.size());
        for (Encoding e : encodings) ex.add(new Example(e, NO_LABEL));
        return collateExamples(ex);
    }

    /** Pads examples; labels are kept when every example has one, and refused when only some do. */
    public Batch collateExamples(List<Example> examples) {
        if (examples.isEmpty()) throw new TokenizerException("cannot collate an empty batch");
        List<Encoding> encs = new ArrayList<>(examples.size());
        int labelled = 0;
        for (Example e : examples) {
            encs.add(e.encoding());
            if (e.label() != NO_LABEL) labelled++;
        }
        if (labelled != 0 && labelled != examples.size()) {
            throw new TokenizerException("cannot collate: " + labelled + " of " + examples.size() + " examples have a label");
        }
        List<Encoding> padded = tokenizer.pad(encs, padding);
        int b = padded.size();
        int s = padded.get(0).length();
        for (int i = 1; i < b; i++) {
            if (padded.get(i).length() != s) {
                throw new TokenizerException("cannot collate: example " + i + " has " + padded.get(i).length()
                        + " tokens, example 0 has " + s + " (padding is off or max_length is shorter than an example)");
            }
        }
        int[] ids = new int[b * s], types = new int[b * s], mask = new int[b * s];
        int[] labels = labelled == 0 ? null : new int[b];
        for (int i = 0; i < b; i++) {
            Encoding e = padded.get(i);
            System.arraycopy(e.ids, 0, ids, i * s, s);
            System.arraycopy(e.typeIds, 0, types, i * s, s);
            System.arraycopy(e.attentionMask, 0, mask, i * s, s);
            if (labels != null) labels[i] = examples.get(i).label();
        }
        return new Batch(b, s, ids, types, mask, labels);
    }
}
