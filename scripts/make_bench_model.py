#!/usr/bin/python3
"""A random-weight BERT of a given shape, for ForwardBenchmark's deeper models, in both formats.

    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 scripts/make_bench_model.py --out ~/.cache/bertj/bench/bge-small-shape

writes model.safetensors + config.json (read by bertj) and model.onnx (run by ONNX Runtime) from the
same PyTorch weights, so both systems run the identical model. The default shape is bge-small-en's
config.json (BAAI/bge-small-en-v1.5: 12 layers, hidden 384, 12 heads, intermediate 1536, vocab 30522,
512 positions); --layers/--hidden/--heads/--intermediate change it (BERT-base: 12/768/12/3072).
Weights follow HF's _init_weights: N(0, 0.02) matrices, zero biases, LayerNorm 1/0. The ~130 MB of
output stays in the cache directory, never in the repository.

The model is scripts/make_fixtures.py's plain-PyTorch mirror of HF's modeling_bert; torch.onnx.export
(PyTorch 1.13, opset 14) writes the graph with dynamic batch and sequence axes, inputs input_ids,
attention_mask, token_type_ids (int64) and output last_hidden_state.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402


class LastHidden(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids, attention_mask, token_type_ids)[0]


@torch.no_grad()
def hf_init(model):
    layer_norms = {n for n, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    for name, p in model.named_parameters():
        owner, _, leaf = name.rpartition(".")
        if owner in layer_norms:
            p.fill_(1.0 if leaf == "weight" else 0.0)
        elif leaf == "bias":
            p.zero_()
        else:
            p.normal_(0.0, 0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=1536)
    args = ap.parse_args()
    config = dict(mf.CONFIG)
    config.update({"hidden_size": args.hidden, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
                   "intermediate_size": args.intermediate, "vocab_size": 30522, "max_position_embeddings": 512})
    torch.manual_seed(0)
    bert = mf.BertModel(config).eval()
    hf_init(bert)
    os.makedirs(args.out, exist_ok=True)
    mf.save_safetensors(os.path.join(args.out, "model.safetensors"), dict(bert.state_dict()))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(LastHidden(bert), (ids, mask, types), os.path.join(args.out, "model.onnx"),
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
                      opset_version=14)
    print("wrote", args.out, f"({args.layers} layers, hidden {args.hidden})")


if __name__ == "__main__":
    main()
