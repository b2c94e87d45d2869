#!/usr/bin/env node
// Generates core/src/main/java/dev/bertj/tokenizer/Unicode8.java: the Unicode 8.0
// General_Category tables that Hugging Face's BERT tokenizer actually uses.
//
// Why Unicode 8.0: the Rust `tokenizers` crate classifies characters with the crate
// `unicode_categories` 0.1.1, whose tables were generated from UnicodeData.txt 8.0.0
// (its Cc, Cf, Mn, Pc, Pd, Pe, Pf, Pi, Po, Ps tables equal Unicode 8.0.0 exactly; Co is
// hard-coded as the three private-use ranges). The JDK's Character.getType follows a much
// newer Unicode, so it cannot be used for these predicates.
//
// How to run (never install the npm package into the repository):
//
//   tmp=$(mktemp -d) && (cd "$tmp" && npm install --no-save unicode-8.0.0@0.7.5 unicode-9.0.0@0.7.5)
//   node scripts/gen-unicode8-tables.mjs "$tmp/node_modules" \
//       > core/src/main/java/dev/bertj/tokenizer/Unicode8.java
//
// The only argument is the node_modules directory that contains `unicode-8.0.0` and
// `unicode-9.0.0`. The 9.0 package gives one more table: which code points Unicode 9.0 assigns,
// because HF's NFD (crate unicode-normalization-alignments 0.1.12) has Unicode 9.0 data: a code
// point assigned later neither decomposes nor reorders there (it is a starter).
// Output is deterministic: rerunning with the same package version gives the same file.

import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

const nodeModules = process.argv[2];
if (!nodeModules) {
  process.stderr.write('usage: node gen-unicode8-tables.mjs <path-to-node_modules>\n');
  process.exit(2);
}
const pkgDir = path.resolve(nodeModules, 'unicode-8.0.0');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const require = createRequire(path.join(pkgDir, 'index.js'));
const pkg9Dir = path.resolve(nodeModules, 'unicode-9.0.0');
const pkg9 = JSON.parse(fs.readFileSync(path.join(pkg9Dir, 'package.json'), 'utf8'));

/** Code points of one General_Category value (long name, as the npm package spells it). */
function category(name) {
  const cps = require(path.join(pkgDir, 'General_Category', name, 'code-points.js'));
  if (!Array.isArray(cps) || cps.length === 0) throw new Error(`empty category ${name}`);
  return cps;
}

/** Code points of one binary property. */
function binaryProperty(name) {
  return require(path.join(pkgDir, 'Binary_Property', name, 'code-points.js'));
}

/** Sorted, merged [start, end] ranges (inclusive) of a set of code points. */
function toRanges(codePoints) {
  const sorted = [...new Set(codePoints)].sort((a, b) => a - b);
  const ranges = [];
  for (const cp of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] + 1 === cp) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges;
}

const punctuation = toRanges([
  'Connector_Punctuation', // Pc
  'Dash_Punctuation', // Pd
  'Close_Punctuation', // Pe
  'Final_Punctuation', // Pf
  'Initial_Punctuation', // Pi
  'Other_Punctuation', // Po
  'Open_Punctuation', // Ps
].flatMap(category));
const nonSpacingMark = toRanges(category('Nonspacing_Mark')); // Mn
// unicode_categories' is_other() = is_other_control || is_other_format || is_other_private_use.
// It has no Cs or Cn table: surrogates and unassigned code points are NOT "other".
const other = toRanges([
  'Control', // Cc
  'Format', // Cf
  'Private_Use', // Co
].flatMap(category));
// Rust's char::is_whitespace is the White_Space property, unchanged since Unicode 6.3
// (so the 8.0 list equals the one of any newer Rust toolchain).
const whiteSpace = toRanges(binaryProperty('White_Space'));
const unassigned9 = toRanges(require(path.join(pkg9Dir, 'General_Category', 'Unassigned', 'code-points.js')));

// Sanity checks, so that a wrong package or layout fails loudly instead of generating junk.
const has = (ranges, cp) => ranges.some(([s, e]) => s <= cp && cp <= e);
const expect = (cond, what) => { if (!cond) throw new Error(`sanity check failed: ${what}`); };
expect(pkg.name === 'unicode-8.0.0', 'package name');
expect(pkg9.name === 'unicode-9.0.0', 'package name (9.0)');
expect(!has(unassigned9, 0x1E944) && has(unassigned9, 0x0D3B) && has(unassigned9, 0x11938), 'Unicode 9.0 assignments');
expect(has(punctuation, 0x21) && has(punctuation, 0x2E42) && !has(punctuation, 0x2E43),
  'P* is Unicode 8.0 (U+2E42 yes, U+2E43 added in 9.0 no)');
expect(!has(punctuation, 0x24) && !has(punctuation, 0x2B), '$ and + are symbols, not P*');
expect(has(nonSpacingMark, 0x0300) && !has(nonSpacingMark, 0x08D4), 'Mn is Unicode 8.0');
expect(has(other, 0x00) && has(other, 0x9F) && has(other, 0xAD) && has(other, 0xE000)
  && has(other, 0x10FFFD) && !has(other, 0xD800) && !has(other, 0x0378), 'Cc/Cf/Co');
expect(has(whiteSpace, 0x3000) && !has(whiteSpace, 0x180E) && !has(whiteSpace, 0x200B), 'White_Space');
for (const [s, e] of [...punctuation, ...nonSpacingMark]) {
  for (let cp = s; cp <= e; cp++) expect(!has(other, cp) && !has(whiteSpace, cp), 'P*, Mn, Other disjoint');
}

function javaTable(name, ranges, doc) {
  const lines = [];
  for (let i = 0; i < ranges.length; i += 6) {
    lines.push('        ' + ranges.slice(i, i + 6)
      .map(([s, e]) => `0x${hex(s)}, 0x${hex(e)},`).join(' '));
  }
  return `    /** ${doc} ${ranges.length} ranges as [start, end] pairs, inclusive, sorted. */\n`
    + `    private static final int[] ${name} = {\n${lines.join('\n')}\n    };\n`;
}

function hex(cp) {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

const out = `// GENERATED FILE - DO NOT EDIT.
// Generated by scripts/gen-unicode8-tables.mjs from the npm package ${pkg.name}@${pkg.version}
// and ${pkg9.name}@${pkg9.version} (General_Category and Binary_Property/White_Space code point
// lists of Unicode 8.0.0; the Unassigned list of Unicode 9.0.0).
// To regenerate, see the comment at the top of that script.
package dev.bertj.tokenizer;

/**
 * Unicode 8.0.0 character classes, as used by Hugging Face's BERT tokenizer.
 *
 * <p>The Rust {@code tokenizers} crate classifies characters with the crate
 * {@code unicode_categories} 0.1.1, whose tables are Unicode 8.0.0. The JDK's
 * {@link Character#getType(int)} follows a newer Unicode version and disagrees for every
 * character assigned or re-categorised since 8.0, so these tables are used instead.
 *
 * <ul>
 *   <li>{@link #isPunctuation(int)}: General_Category P* (Pc, Pd, Pe, Pf, Pi, Po, Ps) only.
 *       BERT additionally treats all ASCII punctuation (33-47, 58-64, 91-96, 123-126) as
 *       punctuation; that rule is in {@link #BERT_PUNCTUATION} but not in this method.</li>
 *   <li>{@link #isNonSpacingMark(int)}: Mn (accent stripping drops these after NFD).</li>
 *   <li>{@link #isOther(int)}: exactly {@code unicode_categories}' {@code is_other()}, that
 *       is Cc, Cf and Co. Not Cs, not Cn: surrogates and unassigned code points are kept.
 *       Note: \\t, \\n and \\r are Cc; BERT's clean_text treats them as whitespace instead.</li>
 *   <li>{@link #isWhitespace(int)}: the White_Space property, which is what Rust's
 *       {@code char::is_whitespace} tests (not {@link Character#isWhitespace(int)}: that one
 *       excludes U+00A0, U+2007, U+202F and includes U+001C..U+001F).</li>
 * </ul>
 *
 * <p>For the hot path, {@link #bmpFlags()} gives all classes of a BMP
 * code point with one array lookup; {@link #flags(int)} works for every code point.
 */
final class Unicode8 {

    /** Flag bit: Unicode 8.0 P* (no ASCII rule). */
    static final int PUNCTUATION = 1;
    /** Flag bit: Unicode 8.0 Mn. */
    static final int NON_SPACING_MARK = 1 << 1;
    /** Flag bit: Unicode 8.0 Cc, Cf or Co ({@code unicode_categories::is_other}). */
    static final int OTHER = 1 << 2;
    /** Flag bit: White_Space ({@code char::is_whitespace} in Rust). */
    static final int WHITESPACE = 1 << 3;
    /** Flag bit: BERT punctuation, i.e. ASCII punctuation or Unicode 8.0 P*. */
    static final int BERT_PUNCTUATION = 1 << 4;

    private Unicode8() {}

${javaTable('PUNCTUATION_RANGES', punctuation, 'Unicode 8.0 General_Category P*.')}
${javaTable('NON_SPACING_MARK_RANGES', nonSpacingMark, 'Unicode 8.0 General_Category Mn.')}
${javaTable('OTHER_RANGES', other, 'Unicode 8.0 General_Category Cc, Cf and Co.')}
${javaTable('WHITESPACE_RANGES', whiteSpace, 'Unicode 8.0 White_Space property.')}
${javaTable('UNASSIGNED_9_RANGES', unassigned9, 'Unicode 9.0 General_Category Cn (unassigned).')}
    /**
     * Whether Unicode 9.0 assigns {@code cp}. HF's NFD uses Unicode 9.0 data, so a later
     * character neither decomposes nor takes part in canonical reordering there.
     */
    static boolean isAssignedIn9(int cp) {
        return !in(UNASSIGNED_9_RANGES, cp);
    }

    /** Whether {@code cp} is Unicode 8.0 punctuation (P*); the ASCII rule is not included. */
    static boolean isPunctuation(int cp) {
        return in(PUNCTUATION_RANGES, cp);
    }

    /** Whether {@code cp} is a Unicode 8.0 non-spacing mark (Mn). */
    static boolean isNonSpacingMark(int cp) {
        return in(NON_SPACING_MARK_RANGES, cp);
    }

    /** Whether {@code cp} is Unicode 8.0 Cc, Cf or Co: {@code unicode_categories}' is_other(). */
    static boolean isOther(int cp) {
        return in(OTHER_RANGES, cp);
    }

    /** Whether {@code cp} has the White_Space property, like Rust's {@code char::is_whitespace}. */
    static boolean isWhitespace(int cp) {
        return in(WHITESPACE_RANGES, cp);
    }

    /** Whether {@code cp} is ASCII punctuation in the sense of Rust's {@code is_ascii_punctuation}. */
    static boolean isAsciiPunctuation(int cp) {
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64)
                || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    }

    /** All flag bits of any code point (BMP: one array lookup; otherwise binary searches). */
    static int flags(int cp) {
        if (cp >= 0 && cp < 0x10000) {
            return Bmp.FLAGS[cp];
        }
        return computeFlags(cp);
    }

    /**
     * The flag table of the BMP, indexed by UTF-16 code unit value; shared, do not modify.
     * Surrogate code units (U+D800..U+DFFF) have no flags.
     */
    static byte[] bmpFlags() {
        return Bmp.FLAGS;
    }

    private static int computeFlags(int cp) {
        int f = 0;
        if (isPunctuation(cp)) {
            f |= PUNCTUATION | BERT_PUNCTUATION;
        }
        if (isAsciiPunctuation(cp)) {
            f |= BERT_PUNCTUATION;
        }
        if (isNonSpacingMark(cp)) {
            f |= NON_SPACING_MARK;
        }
        if (isOther(cp)) {
            f |= OTHER;
        }
        if (isWhitespace(cp)) {
            f |= WHITESPACE;
        }
        return f;
    }

    /** Binary search over sorted inclusive [start, end] pairs. */
    private static boolean in(int[] ranges, int cp) {
        int lo = 0;
        int hi = (ranges.length >>> 1) - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[mid << 1]) {
                hi = mid - 1;
            } else if (cp > ranges[(mid << 1) + 1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** Lazy holder: the 64K table is built on first BMP lookup, from the ranges above. */
    private static final class Bmp {
        static final byte[] FLAGS = build();

        private static byte[] build() {
            byte[] flags = new byte[0x10000];
            mark(flags, PUNCTUATION_RANGES, PUNCTUATION | BERT_PUNCTUATION);
            mark(flags, NON_SPACING_MARK_RANGES, NON_SPACING_MARK);
            mark(flags, OTHER_RANGES, OTHER);
            mark(flags, WHITESPACE_RANGES, WHITESPACE);
            for (int cp = 0; cp < 0x80; cp++) {
                if (isAsciiPunctuation(cp)) {
                    flags[cp] |= BERT_PUNCTUATION;
                }
            }
            return flags;
        }

        private static void mark(byte[] flags, int[] ranges, int bit) {
            for (int i = 0; i < ranges.length; i += 2) {
                int end = Math.min(ranges[i + 1], 0xFFFF);
                for (int cp = ranges[i]; cp <= end; cp++) {
                    flags[cp] |= (byte) bit;
                }
            }
        }
    }
}
`;
process.stdout.write(out);
