#!/usr/bin/python3
"""Generate PyTorch reference fixtures for bertj's optimizer pieces (dev.bertj.train).

How to run (from the repository root, on Debian 12 "bookworm"):

    apt-get update && apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 scripts/make_optimizer_fixtures.py [--out DIR]

Use the system interpreter (/usr/bin/python3): a pyenv/venv python3 will not see the Debian packages.
Debian's python3-torch is PyTorch 1.13.1 (torch.__version__ == "1.13.0a0"). No transformers needed.

Output (default): tests/src/test/resources/fixtures/optimizer/

What it runs, exactly as a Hugging Face Trainer step does it, for 12 optimizer steps:
    total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    optimizer.step()        # torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    scheduler.step()        # LambdaLR with HF's get_linear_schedule_with_warmup lambda (warmup 3, total 10)
Two param groups, following the HF rule (no decay for names containing "bias" or "LayerNorm.weight"):
weight_decay 0.01 for the query weight, 0.0 for the query bias and the LayerNorm weight.
The schedule runs past its total so the last two steps use lr 0. At step 6 the LayerNorm weight
has no gradient (p.grad = None): PyTorch skips it there, so its own step count (and bias
correction) falls one behind the other parameters from then on.

Gradients are N(0, 1) times a per-step scale chosen so clip_grad_norm_ scales them down on some
steps and leaves them alone on others (the script checks both happen). The LayerNorm weight's are
further scaled by 1e-8, so that sqrt(v_hat) there is comparable to eps and where eps enters the
denominator shows in the parameters (with unit-size gradients eps is invisible at float32).

Files (float32 unless noted; NAME is a parameter name, dots kept):
    grad.NAME.npy        [12, *shape]  gradients before clipping (zeros where has_grad is 0)
    param.NAME.npy       [13, *shape]  index 0: initial values; index k+1: after optimizer step k
    exp_avg.NAME.npy     [*shape]      AdamW state after the last step
    exp_avg_sq.NAME.npy  [*shape]
    has_grad.npy         int64 [12, 3] 1 where the parameter had a gradient at that step (NAMES order)
    state_step.npy       int64 [3]     AdamW's per-parameter step count after the last step
    lr.npy               float64 [12]  param_groups lr used by step k (LambdaLR: base_lr * lambda(k))
    total_norm.npy       [12]          what clip_grad_norm_ returned at step k
"""

import argparse
import os
import sys

import numpy as np
import torch

NAMES = [
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.0.attention.self.query.bias",
    "embeddings.LayerNorm.weight",
]
SHAPES = [(4, 3), (4,), (3,)]
STEPS = 12
WARMUP, TOTAL = 3, 10
LR, WEIGHT_DECAY, MAX_NORM = 1e-3, 0.01, 1.0
# Unit-normal gradients over 19 elements have norm ~4.4: these scales put some steps under 1.0.
SCALES = [0.1, 0.5, 0.05, 2.0, 0.15, 1.0, 0.08, 3.0, 0.12, 0.3, 0.02, 0.7]
SKIP = {(6, "embeddings.LayerNorm.weight")}
EPS_SIZED = {"embeddings.LayerNorm.weight": 1e-8}


def hf_decays(name):
    # The HF no_decay list (run_glue & co.); Trainer's own rule gives the same split for BERT names.
    return not any(nd in name for nd in ("bias", "LayerNorm.weight"))


def linear_schedule_with_warmup(current_step):
    # transformers.optimization._get_linear_schedule_with_warmup_lr_lambda, verbatim in behaviour.
    if current_step < WARMUP:
        return float(current_step) / float(max(1, WARMUP))
    return max(0.0, float(TOTAL - current_step) / float(max(1, TOTAL - WARMUP)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                  "tests", "src", "test", "resources", "fixtures", "optimizer"))
    out = os.path.normpath(ap.parse_args().out)
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(0)
    torch.set_num_threads(1)
    params = [torch.nn.Parameter(torch.randn(*s) * 0.5 + (1.0 if "LayerNorm" in n else 0.0))
              for n, s in zip(NAMES, SHAPES)]
    groups = [
        {"params": [p for n, p in zip(NAMES, params) if hf_decays(n)], "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in zip(NAMES, params) if not hf_decays(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_schedule_with_warmup)

    grads = {n: np.zeros((STEPS,) + s, np.float32) for n, s in zip(NAMES, SHAPES)}
    history = {n: [p.detach().numpy().copy()] for n, p in zip(NAMES, params)}
    has_grad = np.zeros((STEPS, len(NAMES)), np.int64)
    lrs = np.zeros(STEPS, np.float64)
    norms = np.zeros(STEPS, np.float32)

    for k in range(STEPS):
        for i, (n, p) in enumerate(zip(NAMES, params)):
            # Drawn even when skipped, so the random stream stays aligned.
            g = torch.randn(p.shape) * (SCALES[k] * EPS_SIZED.get(n, 1.0))
            if (k, n) in SKIP:
                p.grad = None
            else:
                p.grad = g
                grads[n][k] = g.numpy()
                has_grad[k, i] = 1
        lrs[k] = opt.param_groups[0]["lr"]
        assert all(group["lr"] == lrs[k] for group in opt.param_groups)
        norms[k] = torch.nn.utils.clip_grad_norm_(params, MAX_NORM).item()
        opt.step()
        sched.step()
        for n, p in zip(NAMES, params):
            history[n].append(p.detach().numpy().copy())

    clipped = norms > MAX_NORM
    if not (clipped.any() and (~clipped).any()):
        sys.exit(f"clipping should trigger on some steps but not all; norms: {norms}")
    if lrs[-1] != 0.0 or lrs[0] != 0.0:
        sys.exit(f"the schedule should start and end at lr 0; lrs: {lrs}")

    for n, p in zip(NAMES, params):
        np.save(os.path.join(out, f"grad.{n}.npy"), grads[n])
        np.save(os.path.join(out, f"param.{n}.npy"), np.stack(history[n]).astype(np.float32))
        state = opt.state[p]
        np.save(os.path.join(out, f"exp_avg.{n}.npy"), state["exp_avg"].numpy())
        np.save(os.path.join(out, f"exp_avg_sq.{n}.npy"), state["exp_avg_sq"].numpy())
    np.save(os.path.join(out, "has_grad.npy"), has_grad)
    np.save(os.path.join(out, "state_step.npy"), np.array([int(opt.state[p]["step"].item()) for p in params], np.int64))
    np.save(os.path.join(out, "lr.npy"), lrs)
    np.save(os.path.join(out, "total_norm.npy"), norms)
    print(f"wrote {out}: torch {torch.__version__}, numpy {np.__version__}")
    print("lr:", lrs.tolist())
    print("total_norm:", norms.tolist(), "clipped at steps", np.flatnonzero(clipped).tolist())


if __name__ == "__main__":
    main()
