#!/usr/bin/python3
"""Check that a bertj checkpoint directory loads the way Hugging Face transformers would load it.

How to run (from the repository root; Debian's python3-torch and python3-numpy, see make_fixtures.py):

    /usr/bin/python3 scripts/check_hf_checkpoint.py CKPT_DIR --inputs NPY_DIR [--expected LOGITS.npy] [--tol 1e-5]

    CKPT_DIR   a checkpoint saved by dev.bertj.train.Checkpoint (model.safetensors, config.json, vocab.txt, ...)
    NPY_DIR    input_ids.npy, and optionally token_type_ids.npy, attention_mask.npy, labels.npy (int64 [B, S];
               labels [B] for a classifier, [B, S] with -100 where nothing is predicted for BertForMaskedLM)
    LOGITS.npy the logits bertj computed on those inputs ([B, labels] for a classifier; for BertForMaskedLM
               [M, vocab] at the M positions whose label is not -100, in row-major position order); the
               script fails if they differ by more than --tol

To get checkpoints and bertj's logits on the tiny-bert fixtures, run CheckpointTest with
-Dbertj.checkpoint.export=DIR; it writes DIR/seqcls, DIR/custom_<pooling> and DIR/<name>_logits.npy.

transformers itself is not installable here: there is no PyPI access and Debian packages neither
transformers nor safetensors. So this script checks the same contract transformers'
BertForSequenceClassification.from_pretrained relies on, with the plain-PyTorch BERT of
make_fixtures.py (HF's module and parameter names, checked there against torch.nn):
  * model.safetensors parsed by hand (8-byte header size, JSON header, data), with "format": "pt" metadata
    as transformers requires;
  * config.json read as HF's PretrainedConfig does: HF's BertConfig defaults overridden by the file,
    num_labels = len(id2label) (keys are strings in the file, ints in the config);
  * load_state_dict(strict=True): exactly HF's names and shapes, nothing missing or unexpected (the
    non-persistent embeddings.position_ids / token_type_ids buffers, which HF ignores, are dropped first);
  * the tokenizer files HF's BertTokenizer reads (vocab.txt, tokenizer_config.json) are present and consistent.
A "BertClassifier" checkpoint (the notebook's custom head) is checked the same way: encoder names
unprefixed into BertModel, classification_head.{0,3}.* into the notebook's Sequential head, strictly.
A "BertForMaskedLM" checkpoint is loaded as transformers' BertForMaskedLM.from_pretrained loads a
safetensors file: the module tree is HF's (bert without a pooler, cls.predictions.transform.{dense,
LayerNorm}, cls.predictions.decoder, cls.predictions.bias); bert.pooler.* is ignored, as HF's
_keys_to_ignore_on_load_unexpected says; the only keys allowed to be missing are the tied ones HF drops on
save and re-ties on load (cls.predictions.decoder.weight = bert.embeddings.word_embeddings.weight,
cls.predictions.decoder.bias = cls.predictions.bias); anything else missing or unexpected fails. The
logits at the labelled positions and the mean cross-entropy (ignore_index -100) are then computed.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (the reference modules)

# transformers' BertConfig() defaults (bert-base-uncased), which config.json overrides.
HF_BERT_DEFAULTS = {
    "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
    "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
    "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "classifier_dropout": None,
}
HF_BUFFERS = {"embeddings.position_ids", "embeddings.token_type_ids"}  # never weights; HF ignores them on load
CUSTOM_KEYS = ["ff_output_dim", "n_classes", "ff_dropout", "cls_only", "average_all", "pooler"]
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_safetensors(path):
    """{name: tensor}, metadata; validates the layout as the safetensors crate does."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        fail(f"{path}: bad header size {n}")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    data = raw[8 + n:]
    covered = 0
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        s, e = info["data_offsets"]
        if s != covered:
            fail(f"{path}: tensor {name} starts at {s}, expected {covered} (gap or overlap)")
        dtype = info["dtype"]
        if dtype not in DTYPES:
            fail(f"{path}: tensor {name} has dtype {dtype}, which this check does not read")
        if dtype == "BF16":
            words = np.frombuffer(data[s:e], dtype="<u2").astype(np.uint32) << 16
            arr = words.view(np.float32)
        else:
            arr = np.frombuffer(data[s:e], dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"))
        if arr.size != int(np.prod(info["shape"], dtype=np.int64)):
            fail(f"{path}: tensor {name}: {e - s} bytes do not hold shape {info['shape']} of {dtype}")
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
        covered = e
    if covered != len(data):
        fail(f"{path}: {len(data) - covered} trailing bytes after the last tensor")
    return out, metadata


def read_config(path):
    """The config as HF builds it: defaults, then config.json; num_labels from id2label."""
    with open(path) as f:
        file_cfg = json.load(f)
    c = dict(HF_BERT_DEFAULTS)
    c.update(file_cfg)
    if file_cfg.get("model_type", "bert") != "bert":
        fail(f"{path}: model_type {file_cfg.get('model_type')!r} is not 'bert'")
    id2label = {int(k): v for k, v in file_cfg.get("id2label", {"0": "LABEL_0", "1": "LABEL_1"}).items()}
    if sorted(id2label) != list(range(len(id2label))):
        fail(f"{path}: id2label keys {sorted(id2label)} are not 0..{len(id2label) - 1}")
    label2id = file_cfg.get("label2id")
    if label2id is not None and {v: k for k, v in id2label.items()} != label2id:
        fail(f"{path}: label2id {label2id} is not the inverse of id2label {id2label}")
    if c["hidden_act"] != "gelu" or c["position_embedding_type"] != "absolute":
        fail(f"{path}: the reference model implements hidden_act gelu and absolute positions only")
    return c, id2label


def strict_load(module, state, what):
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        fail(f"{what}: load_state_dict(strict=True) failed:\n{e}")
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    print(f"  {what}: strict load OK, {len(shapes)} tensors, {sum(int(np.prod(s)) for s in shapes.values())} values")


class BertLMPredictionHead(nn.Module):
    """HF's cls.predictions: transform (dense, act, LayerNorm), then a decoder tied to the word embeddings."""

    def __init__(self, c):
        super().__init__()
        h, v = c["hidden_size"], c["vocab_size"]
        self.transform = nn.Module()
        self.transform.dense = nn.Linear(h, h)
        self.transform.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.decoder = nn.Linear(h, v)
        self.bias = nn.Parameter(torch.zeros(v))
        self.decoder.bias = self.bias  # tied, as HF's BertLMPredictionHead

    def forward(self, x):
        return self.decoder(self.transform.LayerNorm(mf.gelu(self.transform.dense(x))))


class BertForMaskedLM(nn.Module):
    """HF's BertForMaskedLM (add_pooling_layer=False) with HF's parameter names."""

    def __init__(self, c):
        super().__init__()
        self.bert = mf.BertModel(c)
        self.bert.pooler = nn.Identity()  # no pooler: BertForMaskedLM builds BertModel(add_pooling_layer=False)
        self.cls = nn.Module()
        self.cls.predictions = BertLMPredictionHead(c)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight  # tie_weights()

    def forward(self, ids, mask, types):
        last, _, _, _ = self.bert(ids, mask, types)
        return last


MLM_TIED = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}


def load_masked_lm(c, weights):
    """transformers' from_pretrained for BertForMaskedLM, strict apart from what HF itself tolerates."""
    model = BertForMaskedLM(c)
    ignored = sorted(k for k in weights if k.startswith("bert.pooler."))
    state = {k: v for k, v in weights.items() if not k.startswith("bert.pooler.") and not (k.startswith("bert.") and k[5:] in HF_BUFFERS)}
    expected = set(model.state_dict().keys())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if unexpected or set(missing) - MLM_TIED:
        fail(f"BertForMaskedLM: missing {sorted(set(missing) - MLM_TIED)}, unexpected {unexpected}")
    for k, v in state.items():
        want = tuple(model.state_dict()[k].shape)
        if tuple(v.shape) != want:
            fail(f"BertForMaskedLM: {k} has shape {tuple(v.shape)}, the model {want}")
    model.load_state_dict(state, strict=False)
    # load_state_dict copies into the tied parameters, so the decoder reads the loaded embeddings and bias.
    if model.cls.predictions.decoder.weight.data_ptr() != model.bert.embeddings.word_embeddings.weight.data_ptr():
        fail("BertForMaskedLM: the decoder weight is not tied to the word embeddings")
    print(f"  BertForMaskedLM: load OK, {len(state)} tensors; tied (re-tied on load, not in the file): "
          f"{[k for k in sorted(MLM_TIED) if k not in weights]}; ignored as HF does: {ignored or 'none'}")
    present = sorted(MLM_TIED & set(weights))
    if present:
        print(f"  note: the file also holds {present} (HF's own safetensors checkpoints do not)")
    return model


def check_tokenizer_files(ckpt, c):
    vocab_path = os.path.join(ckpt, "vocab.txt")
    tc_path = os.path.join(ckpt, "tokenizer_config.json")
    for p in (vocab_path, tc_path):
        if not os.path.isfile(p):
            fail(f"missing {p}")
    with open(vocab_path, encoding="utf-8") as f:
        vocab = f.read().split("\n")
    if vocab[-1] == "":
        vocab.pop()
    if len(vocab) > c["vocab_size"]:
        fail(f"vocab.txt has {len(vocab)} tokens, more than vocab_size {c['vocab_size']}")
    with open(tc_path) as f:
        tc = json.load(f)
    for key in ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
        if tc.get(key) not in vocab:
            fail(f"tokenizer_config.json {key} {tc.get(key)!r} is not in vocab.txt")
    extra = ", tokenizer.json" if os.path.isfile(os.path.join(ckpt, "tokenizer.json")) else ""
    print(f"  tokenizer: vocab.txt {len(vocab)} tokens, tokenizer_config.json "
          f"(do_lower_case={tc.get('do_lower_case')}, model_max_length={tc.get('model_max_length')}){extra}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--inputs", required=True, help="folder with input_ids.npy [, token_type_ids.npy, attention_mask.npy, labels.npy]")
    ap.add_argument("--expected", help="bertj's logits (.npy) to compare with")
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()
    ckpt = args.checkpoint

    c, id2label = read_config(os.path.join(ckpt, "config.json"))
    weights, metadata = read_safetensors(os.path.join(ckpt, "model.safetensors"))
    if not metadata or metadata.get("format") not in ("pt", "tf", "flax", "mlx"):
        fail(f"model.safetensors metadata {metadata} lacks the 'format' transformers requires")
    archs = c.get("architectures") or []
    labels_note = "" if "BertForMaskedLM" in archs else f", num_labels {len(id2label)} {id2label}"
    print(f"{ckpt}: architectures {archs}, {len(weights)} tensors{labels_note}")

    if "BertForSequenceClassification" in archs:
        model = mf.BertForSequenceClassification(c, len(id2label))
        sd = {k: v for k, v in weights.items() if not (k.startswith("bert.") and k[5:] in HF_BUFFERS)}
        strict_load(model, sd, "BertForSequenceClassification")
        head = None
    elif "BertForMaskedLM" in archs:
        model = load_masked_lm(c, weights)
        head = "mlm"
    elif "BertClassifier" in archs:
        missing = [k for k in CUSTOM_KEYS if k not in c]
        if missing:
            fail(f"config.json lacks the CustomConfig fields {missing}")
        flags = [k for k in ("cls_only", "average_all", "pooler") if c[k] is True]
        if len(flags) != 1:
            fail(f"config.json must set exactly one of cls_only, average_all, pooler; has {flags}")
        if c["n_classes"] != len(id2label):
            fail(f"n_classes {c['n_classes']} but id2label has {len(id2label)} entries")
        model = mf.BertModel(c)
        head = mf.CustomClassifier(c["hidden_size"], c["ff_output_dim"], c["n_classes"], c["ff_dropout"])
        encoder = {k: v for k, v in weights.items() if not k.startswith("classification_head.") and k not in HF_BUFFERS}
        strict_load(model, encoder, "BertModel (unprefixed encoder)")
        strict_load(head, {k: v for k, v in weights.items() if k.startswith("classification_head.")}, "classification_head")
        pooling = flags[0]
    else:
        fail(f"architectures {archs} names none of BertForSequenceClassification, BertClassifier, BertForMaskedLM")
    check_tokenizer_files(ckpt, c)

    def npy(name, default=None):
        p = os.path.join(args.inputs, name)
        return torch.from_numpy(np.load(p).astype(np.int64)) if os.path.isfile(p) else default

    ids = npy("input_ids.npy")
    if ids is None:
        fail(f"{args.inputs} has no input_ids.npy")
    types = npy("token_type_ids.npy", torch.zeros_like(ids))
    mask = npy("attention_mask.npy", torch.ones_like(ids))
    labels = npy("labels.npy")
    model.eval()
    with torch.no_grad():
        if head == "mlm":
            if labels is None or labels.shape != ids.shape:
                fail("BertForMaskedLM needs labels.npy of the inputs' shape [B, S] (-100 where nothing is predicted)")
            last = model(ids, mask, types)
            picked = labels.view(-1) != -100
            logits = model.cls.predictions(last.reshape(-1, last.shape[-1])[picked])
            loss = torch.nn.functional.cross_entropy(logits, labels.view(-1)[picked])
            labels = labels.view(-1)[picked]
        elif head is None:
            logits, loss = model(ids, mask, types, labels if labels is not None else torch.zeros(ids.shape[0], dtype=torch.int64))
        else:
            head.eval()
            last, pooled, _, _ = model(ids, mask, types)
            m = mask.unsqueeze(-1).to(last.dtype)
            features = {"cls_only": last[:, 0], "average_all": (last * m).sum(dim=1) / m.sum(dim=1), "pooler": pooled}[pooling]
            logits = head(features)
            loss = torch.nn.functional.cross_entropy(logits, labels) if labels is not None else None
    np.set_printoptions(precision=6, suppress=True)
    if head == "mlm":
        print(f"  logits {list(logits.shape)} at the labelled positions; predicted ids {logits.argmax(-1).tolist()[:16]}...")
        print(f"  perplexity {math.exp(loss.item()):.4f}")
    else:
        print(f"  logits {list(logits.shape)}:\n{logits.numpy()}")
    if labels is not None:
        print(f"  loss {loss.item():.7f} (labels {labels.tolist()[:16]}{'...' if labels.numel() > 16 else ''})")
    if args.expected:
        want = np.load(args.expected)
        if want.shape != tuple(logits.shape):
            fail(f"expected shape {want.shape}, got {tuple(logits.shape)}")
        diff = float(np.abs(want.astype(np.float64) - logits.numpy().astype(np.float64)).max())
        print(f"  max |PyTorch - bertj| = {diff:.3e} (tol {args.tol:g})")
        if not diff <= args.tol:
            fail("logits differ")
    print("OK")


if __name__ == "__main__":
    main()
