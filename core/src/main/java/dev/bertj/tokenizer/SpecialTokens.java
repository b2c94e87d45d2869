package dev.bertj.tokenizer;

import java.util.List;

/**
 * The BERT special tokens and their ids.
 *
 * @param unk unknown-word token, e.g. {@code [UNK]}
 * @param sep separator, e.g. {@code [SEP]}
 * @param pad padding, e.g. {@code [PAD]}
 * @param cls classification token, e.g. {@code [CLS]}
 * @param mask mask token, e.g. {@code [MASK]}
 * @param unkId id of {@code unk}
 * @param sepId id of {@code sep}
 * @param padId id of {@code pad}
 * @param clsId id of {@code cls}
 * @param maskId id of {@code mask}
 */
public record SpecialTokens(String unk, String sep, String pad, String cls, String mask,
                            int unkId, int sepId, int padId, int clsId, int maskId) {

    /** HF's {@code all_special_tokens}, in HF's order: unk, sep, pad, cls, mask. */
    public List<String> all() {
        return List.of(unk, sep, pad, cls, mask);
    }

    /** HF's {@code all_special_ids}, in the order of {@link #all()}. */
    public List<Integer> allIds() {
        return List.of(unkId, sepId, padId, clsId, maskId);
    }

    /** Whether an id is one of the special tokens. */
    public boolean isSpecialId(int id) {
        return id == unkId || id == sepId || id == padId || id == clsId || id == maskId;
    }
}
