#!/usr/bin/python3
"""Generate PyTorch autograd fixtures for BertForMaskedLM on the tiny random BERT (bertj's MLM head tests).

How to run (from the repository root, Debian 12: apt-get install -y python3-torch python3-numpy):

    /usr/bin/python3 scripts/make_mlm_fixtures.py [--fixtures DIR]

Inputs (read, never written): the forward fixtures of scripts/make_fixtures.py in --fixtures (default
tests/src/test/resources/fixtures/tiny-bert/): config.json, model.safetensors, input_ids /
token_type_ids / attention_mask .npy. The encoder is LOADED from model.safetensors; the MLM head
(cls.predictions.transform.dense, .transform.LayerNorm, .bias) is drawn here with torch.manual_seed(1)
and the same init rule as make_fixtures (std 0.2 weights, N(0, 0.1) biases, LayerNorm 1 + N(0, 0.1)).

The model is HF's BertForMaskedLM written in plain PyTorch (no transformers on Debian):
    t = LayerNorm(gelu(transform.dense(last_hidden_state)))
    logits = t @ word_embeddings.weight.T + cls.predictions.bias       (decoder tied to the embeddings)
    loss = cross_entropy(logits.view(-1, V), labels.view(-1), ignore_index=-100)
Labels: a fixed set of real (non-padding) positions get a target id, every other position -100.

Output, in <fixtures>/grads/mlm/: mlm.safetensors (bert.* encoder + the head, HF names, no separate
decoder weight, as HF saves tied weights), labels.npy (int64 [B, S]), loss.npy, debug/logits.npy (float32
[labelled positions, V], row-major in position order) and one float32 .npy per parameter gradient,
named as the parameter (the tied table's gradient holds the decoder's and the embeddings' parts).
Eval mode (dropout off), float32, CPU, one thread; also recomputed in float64 and the float32 error
printed.
"""

import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

IGNORE_INDEX = -100
# (row, position, target id): real tokens only (rows have 11 / 7 / 4 real tokens), some special, some not.
LABELLED = [(0, 0, 3), (0, 2, 17), (0, 5, 44), (0, 10, 9), (1, 1, 1), (1, 4, 30), (2, 2, 49), (2, 3, 0)]


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = mf.BertModel(c)
        h = c["hidden_size"]
        self.transform_dense = nn.Linear(h, h)
        self.transform_ln = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    def head_state(self):
        return {"cls.predictions.transform.dense.weight": self.transform_dense.weight,
                "cls.predictions.transform.dense.bias": self.transform_dense.bias,
                "cls.predictions.transform.LayerNorm.weight": self.transform_ln.weight,
                "cls.predictions.transform.LayerNorm.bias": self.transform_ln.bias,
                "cls.predictions.bias": self.bias}

    def forward(self, ids, mask, types, labels):
        last, _, _, _ = self.bert(ids, mask, types)
        t = self.transform_ln(mf.gelu(self.transform_dense(last)))
        logits = t @ self.bert.embeddings.word_embeddings.weight.T + self.bias
        loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=IGNORE_INDEX)
        return logits, loss


def build(c, bert_sd, dtype):
    torch.manual_seed(1)
    m = BertForMaskedLM(c)
    with torch.no_grad():
        h = c["hidden_size"]
        m.transform_dense.weight.copy_(mf.INIT_STD * torch.randn(h, h))
        m.transform_dense.bias.copy_(mf.BIAS_STD * torch.randn(h))
        m.transform_ln.weight.copy_(1.0 + mf.LN_STD * torch.randn(h))
        m.transform_ln.bias.copy_(mf.LN_STD * torch.randn(h))
        m.bias.copy_(mf.BIAS_STD * torch.randn(c["vocab_size"]))
    missing, unexpected = m.bert.load_state_dict(bert_sd, strict=True)
    assert not missing and not unexpected
    m = m.to(dtype)
    m.eval()
    return m


def run(c, bert_sd, inputs, labels, dtype):
    m = build(c, bert_sd, dtype)
    logits, loss = m(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"], labels)
    loss.backward()
    grads = {"bert." + n: p.grad for n, p in m.bert.named_parameters() if p.grad is not None}
    grads.update({n: p.grad for n, p in m.head_state().items()})
    picked = torch.stack([logits[r, s] for r, s, _ in LABELLED])
    return m, loss, picked, grads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default="tests/src/test/resources/fixtures/tiny-bert")
    a = ap.parse_args()
    torch.set_num_threads(1)
    import json
    with open(os.path.join(a.fixtures, "config.json")) as f:
        c = json.load(f)
    _, bert_sd = mf.load_safetensors(os.path.join(a.fixtures, "model.safetensors"))
    inputs = {n: torch.from_numpy(np.load(os.path.join(a.fixtures, n + ".npy"))) for n in ["input_ids", "token_type_ids", "attention_mask"]}
    labels = torch.full_like(inputs["input_ids"], IGNORE_INDEX)
    for r, s, y in LABELLED:
        assert inputs["attention_mask"][r, s] == 1, (r, s)
        labels[r, s] = y

    m32, loss32, logits32, g32 = run(c, bert_sd, inputs, labels, torch.float32)
    _, loss64, logits64, g64 = run(c, {k: v.double() for k, v in bert_sd.items()}, inputs, labels, torch.float64)
    print("loss float32 %.8f float64 %.8f" % (loss32.item(), loss64.item()))
    print("logits max |f32 - f64| %.3g" % (logits32.double() - logits64).abs().max().item())
    # attention.self.key.bias has a zero gradient in exact arithmetic (softmax ignores a per-row shift),
    # so its relative error means nothing; it is compared against the largest gradient instead.
    worst = max(((g32[k].double() - g64[k]).abs().max() / g64[k].abs().max().clamp_min(1e-30)).item()
                for k in g32 if not k.endswith("attention.self.key.bias"))
    print("gradients: worst max|f32 - f64| / max|f64| over tensors (key.bias aside) %.3g" % worst)

    out = os.path.join(a.fixtures, "grads", "mlm")
    os.makedirs(out, exist_ok=True)
    state = {"bert." + k: v for k, v in bert_sd.items()}
    state.update({k: v.detach() for k, v in m32.head_state().items()})
    mf.save_safetensors(os.path.join(out, "mlm.safetensors"), state)
    np.save(os.path.join(out, "labels.npy"), labels.numpy())
    np.save(os.path.join(out, "loss.npy"), np.array(loss32.item(), dtype="<f4"))
    os.makedirs(os.path.join(out, "debug"), exist_ok=True)
    np.save(os.path.join(out, "debug", "logits.npy"), logits32.detach().numpy().astype("<f4"))
    for k, v in g32.items():
        np.save(os.path.join(out, k + ".npy"), v.detach().numpy().astype("<f4"))
    print("wrote", out, len(g32), "gradients")


if __name__ == "__main__":
    main()
