package dev.bertj.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Truncation, the BERT template ({@code [CLS] A [SEP]} and {@code [CLS] A [SEP] B [SEP]}) and
 * padding, with the semantics of HF tokenizers' {@code truncate_encodings}, {@code Encoding::truncate},
 * {@code Encoding::merge_with} and {@code Encoding::pad}.
 */
final class PostProcessor {
    /**
     * A raw token sequence: a view {@code [from, to)} of parallel arrays of ids, word ids and source
     * offsets (a thread's reusable buffer, valid until that thread encodes again).
     */
    record Seq(int[] ids, int[] words, int[] starts, int[] ends, int from, int to) {
        static final Seq EMPTY = new Seq(new int[0], new int[0], new int[0], new int[0], 0, 0);

        static Seq of(TokenBuffer b) {
            return new Seq(b.ids, b.words, b.starts, b.ends, 0, b.size);
        }

        int length() {
            return to - from;
        }

        Seq slice(int sliceFrom, int sliceTo) {
            return new Seq(ids, words, starts, ends, from + sliceFrom, from + sliceTo);
        }
    }

    /**
     * What one call (an encode, a whole encodeBatch, a pad) may produce beyond its plain encodings,
     * which are proportional to its input: overflowing windows and padding can multiply it (a pair
     * truncated longest_first with a stride yields every combination of the two sides' windows), so
     * they are counted here before anything is built: windows per encoding against {@link
     * BertTokenizer#MAX_OVERFLOWING_WINDOWS}, and the tokens of windows and padding of the whole call
     * against {@link BertTokenizer#MAX_EXTRA_TOKENS}. Shared by a batch's threads.
     */
    static final class Budget {
        private final AtomicLong tokens = new AtomicLong();

        void windows(long n, int tokensPerWindow, String what) {
            if (n > BertTokenizer.MAX_OVERFLOWING_WINDOWS) {
                throw new TokenizerException(String.format("%s would make %,d overflowing windows, more than the limit of %,d"
                        + " (BertTokenizer.MAX_OVERFLOWING_WINDOWS); raise max_length or lower the stride", what, n,
                        BertTokenizer.MAX_OVERFLOWING_WINDOWS));
            }
            tokens("the overflowing windows of " + what, n * tokensPerWindow); // n is at most 2^16 here: no overflow
        }

        void tokens(String what, long n) {
            long t = tokens.addAndGet(n);
            if (t > BertTokenizer.MAX_EXTRA_TOKENS) {
                throw new TokenizerException(String.format("%s would add up to %,d tokens%s, more than the limit of %,d"
                        + " (BertTokenizer.MAX_EXTRA_TOKENS); encode in smaller batches", what, n,
                        t == n ? "" : String.format(" (%,d in this call so far)", t), BertTokenizer.MAX_EXTRA_TOKENS));
            }
        }
    }

    private final int clsId;
    private final int sepId;
    private final int padId;
    private final String[] tokenTable;
    /** HF's TemplateProcessing gives the pair type id 1 even without special tokens; BertProcessing does not. */
    private final boolean pairTypeIdsWithoutSpecials;

    PostProcessor(int clsId, int sepId, int padId, String[] tokenTable, boolean pairTypeIdsWithoutSpecials) {
        this.clsId = clsId;
        this.sepId = sepId;
        this.padId = padId;
        this.tokenTable = tokenTable;
        this.pairTypeIdsWithoutSpecials = pairTypeIdsWithoutSpecials;
    }

    /** Number of special tokens the template adds. */
    static int added(boolean pair, boolean addSpecialTokens) {
        return addSpecialTokens ? (pair ? 3 : 2) : 0;
    }

    /** Truncates (when asked) and applies the template; no padding yet. */
    Encoding process(Seq a, Seq b, EncodeOptions opt, int maxLength, Budget limits) {
        int na = a.length();
        int nb = b == null ? -1 : b.length();
        if (opt.truncation() != EncodeOptions.Truncation.NONE) {
            int nAdded = added(b != null, opt.addSpecialTokens());
            if (maxLength < nAdded) {
                throw new TokenizerException("max_length " + maxLength + " leaves no room for the " + nAdded
                        + " special tokens of " + (b == null ? "a single text" : "a pair"));
            }
            int budget = maxLength - nAdded;
            int la = a.length();
            int lb = b == null ? 0 : b.length();
            if (budget == 0) {
                na = 0;
                if (b != null) nb = 0;
            } else if (la + lb > budget) {
                int toRemove = la + lb - budget;
                switch (opt.truncation()) {
                    case LONGEST_FIRST -> {
                        if (b == null) {
                            na = budget;
                        } else {
                            // The shorter side keeps what it can; if both are too long they split the budget floor/ceil.
                            boolean swap = la > lb;
                            int n1 = swap ? lb : la;
                            int n2;
                            if (n1 > budget) n2 = n1;
                            else n2 = Math.max(n1, budget - n1);
                            if (n1 + n2 > budget) {
                                n1 = budget / 2;
                                n2 = n1 + budget % 2;
                            }
                            na = swap ? n2 : n1;
                            nb = swap ? n1 : n2;
                        }
                    }
                    case ONLY_FIRST, ONLY_SECOND -> {
                        boolean first = opt.truncation() == EncodeOptions.Truncation.ONLY_FIRST;
                        if (!first && b == null) {
                            throw new TokenizerException("truncation only_second needs a text pair, but only one text was given");
                        }
                        Seq target = first ? a : b;
                        if (target.length() <= toRemove) {
                            throw new TokenizerException("truncation " + (first ? "only_first" : "only_second") + " cannot reach max_length "
                                    + maxLength + ": the " + (first ? "first" : "second") + " sequence has " + target.length()
                                    + " tokens but " + toRemove + " must go; use longest_first");
                        }
                        if (first) na = la - toRemove;
                        else nb = lb - toRemove;
                    }
                    default -> throw new AssertionError();
                }
            }
        }
        // Count the windows before cutting them: the count alone can be far beyond what may be built.
        long ca = windowCount(a.length(), na, opt.stride());
        long cb = b == null ? 1 : windowCount(b.length(), nb, opt.stride());
        if (ca * cb > 1) {
            limits.windows(ca * cb - 1, Math.max(maxLength, 1), b == null ? "truncating the text" : "truncating the pair");
        }
        List<Seq> wa = windows(a, na, opt.stride());
        List<Seq> wb = b == null ? null : windows(b, nb, opt.stride());
        boolean sp = opt.addSpecialTokens();
        List<Encoding> overflow = new ArrayList<>();
        // Order of HF's Encoding::merge_with: each overflowing first window with the pair's main
        // and overflowing windows, then the main first window with the pair's overflowing ones.
        for (int i = 1; i < wa.size(); i++) {
            if (wb == null) {
                overflow.add(assemble(wa.get(i), null, sp, List.of()));
            } else {
                for (Seq sb : wb) overflow.add(assemble(wa.get(i), sb, sp, List.of()));
            }
        }
        if (wb != null) {
            for (int j = 1; j < wb.size(); j++) overflow.add(assemble(wa.get(0), wb.get(j), sp, List.of()));
        }
        return assemble(wa.get(0), wb == null ? null : wb.get(0), sp, overflow);
    }

    /**
     * How many windows {@link #windows} cuts: 1 when nothing is cut, else the first and the
     * overflowing ones. Also refuses a stride that leaves no step.
     */
    private static long windowCount(int len, int n, int stride) {
        if (n >= len) return 1;
        if (n == 0) return 2;
        if (stride >= n) {
            throw new TokenizerException("stride " + stride + " must be less than the truncated length " + n
                    + " (max_length minus the special tokens)");
        }
        long step = n - stride;
        return 1 + (len - n + step - 1) / step;
    }

    /** HF's Encoding::truncate to {@code n} tokens: the first window and the overflowing ones. */
    private static List<Seq> windows(Seq s, int n, int stride) {
        int len = s.length();
        if (n >= len) return List.of(s);
        if (n == 0) return List.of(Seq.EMPTY, s);
        List<Seq> out = new ArrayList<>();
        int step = n - stride;
        for (int start = 0; ; start += step) {
            int stop = Math.min(start + n, len);
            out.add(s.slice(start, stop));
            if (stop == len) break;
        }
        return out;
    }

    private Encoding assemble(Seq a, Seq b, boolean special, List<Encoding> overflowing) {
        int n = a.length() + (b == null ? 0 : b.length()) + added(b != null, special);
        int[] ids = new int[n], type = new int[n], mask = new int[n], spec = new int[n], words = new int[n], st = new int[n], en = new int[n];
        Arrays.fill(mask, 1);
        int p = 0;
        if (special) p = addSpecial(clsId, 0, p, ids, type, spec, words);
        p = copy(a, 0, p, ids, type, words, st, en);
        if (special) p = addSpecial(sepId, 0, p, ids, type, spec, words);
        if (b != null) {
            int bType = special || pairTypeIdsWithoutSpecials ? 1 : 0;
            p = copy(b, bType, p, ids, type, words, st, en);
            if (special) p = addSpecial(sepId, 1, p, ids, type, spec, words);
        }
        return new Encoding(ids, type, mask, spec, words, st, en, tokenTable, overflowing);
    }

    private static int addSpecial(int id, int typeId, int p, int[] ids, int[] type, int[] spec, int[] words) {
        ids[p] = id;
        type[p] = typeId;
        spec[p] = 1;
        words[p] = -1;
        return p + 1;
    }

    private static int copy(Seq s, int typeId, int p, int[] ids, int[] type, int[] words, int[] st, int[] en) {
        int len = s.length();
        System.arraycopy(s.ids, s.from, ids, p, len);
        System.arraycopy(s.words, s.from, words, p, len);
        System.arraycopy(s.starts, s.from, st, p, len);
        System.arraycopy(s.ends, s.from, en, p, len);
        if (typeId != 0) Arrays.fill(type, p, p + len, typeId);
        return p + len;
    }

    /**
     * Charges padding {@code encodings} (and their windows) to {@code target} against the budget, and
     * checks the padded length, before any padding is allocated.
     */
    static void chargePadding(List<Encoding> encodings, int target, Budget budget) {
        long added = 0;
        for (Encoding e : encodings) {
            added += Math.max(0, target - e.length());
            for (Encoding o : e.overflowing()) added += Math.max(0, target - o.length());
        }
        if (added == 0) return;
        if (target > EncodeOptions.MAX_LENGTH_LIMIT) {
            throw new TokenizerException(String.format("padding to %,d tokens is more than the limit of %,d"
                    + " (EncodeOptions.MAX_LENGTH_LIMIT)", target, EncodeOptions.MAX_LENGTH_LIMIT));
        }
        budget.tokens(String.format("padding %,d encodings to %,d tokens", encodings.size(), target), added);
    }

    /** Pads to {@code target} tokens (overflowing windows too), as HF's Encoding::pad. */
    Encoding pad(Encoding e, int target, EncodeOptions.PaddingSide side) {
        List<Encoding> over = e.overflowing();
        if (!over.isEmpty()) {
            List<Encoding> padded = new ArrayList<>(over.size());
            for (Encoding o : over) padded.add(pad(o, target, side));
            over = padded;
        }
        int len = e.length();
        if (len >= target) {
            return over == e.overflowing() ? e : new Encoding(e.ids, e.typeIds, e.attentionMask, e.specialTokensMask,
                    e.wordIds, e.offsetStarts, e.offsetEnds, tokenTable, over);
        }
        int n = target - len;
        int off = side == EncodeOptions.PaddingSide.LEFT ? n : 0;
        int padFrom = side == EncodeOptions.PaddingSide.LEFT ? 0 : len;
        int[] ids = place(e.ids, target, off, padFrom, n, padId);
        int[] type = place(e.typeIds, target, off, padFrom, n, 0);
        int[] mask = place(e.attentionMask, target, off, padFrom, n, 0);
        int[] spec = place(e.specialTokensMask, target, off, padFrom, n, 1);
        int[] words = place(e.wordIds, target, off, padFrom, n, -1);
        int[] st = place(e.offsetStarts, target, off, padFrom, n, 0);
        int[] en = place(e.offsetEnds, target, off, padFrom, n, 0);
        return new Encoding(ids, type, mask, spec, words, st, en, tokenTable, over);
    }

    private static int[] place(int[] src, int target, int off, int padFrom, int n, int fill) {
        int[] out = new int[target];
        System.arraycopy(src, 0, out, off, src.length);
        if (fill != 0) Arrays.fill(out, padFrom, padFrom + n, fill);
        return out;
    }
}
