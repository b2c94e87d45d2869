#!/usr/bin/env python3
"""PyTorch eager peer for bertj's GpuBenchmark, driven over stdin/stdout so JMH times both in one run.

BERT-base (bert-base-uncased's config: 12 layers, hidden 768, 12 heads, 3072, vocab 30522) with random
weights, BertForSequenceClassification with 2 labels, on cuda:0. Commands, one per line on stdin:
  forward  -> inference (eval, no grad) of BertModel on the batch; last_hidden_state and pooler_output
              copied to the host, as bertj's forward returns host arrays; replies "ok"
  train    -> one training step (train mode, dropout on): forward with labels, backward, AdamW step,
              zero_grad; the loss read on the host (a sync, as bertj's); replies "ok <loss>"
  quit
Precision: fp32 (TF32 off), tf32 (TF32 matmuls), bf16 (torch.autocast to bfloat16 on top of TF32 off).
Everything else is PyTorch's defaults (transformers' default attention implementation, foreach AdamW).
"""
import argparse
import sys

import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="fp32")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    a = ap.parse_args()
    torch.manual_seed(42)
    tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    dev = torch.device("cuda:0")
    config = transformers.BertConfig(num_labels=2)  # the defaults are bert-base-uncased's shapes
    model = transformers.BertForSequenceClassification(config).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, config.vocab_size, (a.batch, a.seq), generator=g).to(dev)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    labels = (torch.arange(a.batch) % 2).to(dev)
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.precision == "bf16")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.cuda.get_device_name(0)}, "
          f"precision {a.precision}, attention {getattr(model.config, '_attn_implementation', '?')}", file=sys.stderr, flush=True)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "forward":
            model.eval()
            with torch.no_grad(), amp:
                out = model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
            out.last_hidden_state.float().cpu()
            out.pooler_output.float().cpu()
            print("ok", flush=True)
        elif cmd == "train":
            model.train()
            with amp:
                loss = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=False)
            print(f"ok {loss.item():.6f}", flush=True)
        elif cmd == "quit" or cmd == "":
            break
        else:
            print(f"error unknown command {cmd}", flush=True)


if __name__ == "__main__":
    main()
