#!/usr/bin/python3
"""Generate PyTorch reference fixtures for a tiny random BERT (bertj tests).

How to run (from the repository root, on Debian 12 "bookworm"):

    apt-get update && apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 scripts/make_fixtures.py [--out DIR]

Debian's python3-torch is PyTorch 1.13.1 (it reports torch.__version__ == "1.13.0a0"), python3-numpy
is 1.24. Use the system interpreter (/usr/bin/python3): a pyenv/venv python3 will not see the Debian
packages. Nothing else is needed: no pip, no transformers, no safetensors package.

Output (default): tests/src/test/resources/fixtures/tiny-bert/

Debian has no python3-transformers package, so the reference model here is a plain-PyTorch
re-implementation of Hugging Face transformers' modeling_bert (BertModel, absolute position
embeddings, post-LayerNorm encoder, exact erf GELU, pooler = dense + tanh on token 0), with the
same module and parameter names, so the written state dict is exactly what HF's BertModel /
BertForSequenceClassification would save (minus the non-persistent position_ids buffer). The
attention mask is applied as in HF's get_extended_attention_mask:
    scores + (1 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
The encoder is additionally cross-checked against torch.nn.TransformerEncoderLayer (an independent
implementation of the same post-LN block) before anything is written.

Everything is deterministic: torch.manual_seed(0), eval mode (dropout off), float32 on CPU.
safetensors files are written by hand (8-byte little-endian header length, JSON header with
"__metadata__": {"format": "pt"}, space-padded to 8-byte alignment, raw little-endian data).
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

SEED = 0
INIT_STD = 0.2          # weights (not HF's 0.02, so activations are not trivially small)
BIAS_STD = 0.1          # biases ~ N(0, 0.1)
LN_STD = 0.1            # LayerNorm weights ~ 1 + N(0, 0.1), LayerNorm biases ~ N(0, 0.1)

CONFIG = {
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 37,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 24,
    "model_type": "bert",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "type_vocab_size": 2,
    "vocab_size": 50,
}

NUM_LABELS = 3
CUSTOM_HIDDEN = 16
LABELS = [2, 0, 1]
LENGTHS = [11, 7, 4]
SEQ_LEN = 11
CLS_ID, SEP_ID, PAD_ID = 2, 3, 0   # toy "special" ids; regular tokens are drawn from [4, vocab)
POOLINGS = ["cls_only", "average_all", "pooler"]


# ----------------------------------------------------------------------------------------------
# Plain-PyTorch BERT, mirroring transformers.models.bert.modeling_bert (names included)
# ----------------------------------------------------------------------------------------------

def gelu(x):
    # HF ACT2FN["gelu"] = GELUActivation = exact erf form
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        # HF registers position_ids as a non-persistent buffer; not part of the checkpoint.
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)),
                             persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.shape[1]
        position_ids = self.position_ids[:, :seq_length]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_attention_heads = c["num_attention_heads"]
        self.attention_head_size = c["hidden_size"] // c["num_attention_heads"]
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(c["hidden_size"], self.all_head_size)
        self.key = nn.Linear(c["hidden_size"], self.all_head_size)
        self.value = nn.Linear(c["hidden_size"], self.all_head_size)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def transpose_for_scores(self, x):
        x = x.view(x.size()[:-1] + (self.num_attention_heads, self.attention_head_size))
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_attention_mask):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.attention_head_size)
        attention_scores = attention_scores + extended_attention_mask
        attention_probs = nn.functional.softmax(attention_scores, dim=-1)
        context_layer = torch.matmul(self.dropout(attention_probs), value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        context_layer = context_layer.view(context_layer.size()[:-2] + (self.all_head_size,))
        return context_layer, attention_probs


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, hidden_states, extended_attention_mask):
        context, probs = self.self(hidden_states, extended_attention_mask)
        return self.output(context, hidden_states), probs


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, hidden_states):
        return gelu(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return self.LayerNorm(hidden_states + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, hidden_states, extended_attention_mask):
        attention_output, probs = self.attention(hidden_states, extended_attention_mask)
        layer_output = self.output(self.intermediate(attention_output), attention_output)
        return layer_output, probs


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, hidden_states, extended_attention_mask):
        all_hidden = (hidden_states,)
        all_attn = ()
        for layer in self.layer:
            hidden_states, probs = layer(hidden_states, extended_attention_mask)
            all_hidden += (hidden_states,)
            all_attn += (probs,)
        return hidden_states, all_hidden, all_attn


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


def get_extended_attention_mask(attention_mask, dtype):
    # HF ModuleUtilsMixin.get_extended_attention_mask for a 2-D mask on an encoder
    extended = attention_mask[:, None, None, :].to(dtype=dtype)
    return (1.0 - extended) * torch.finfo(dtype).min


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        dtype = self.embeddings.word_embeddings.weight.dtype
        ext = get_extended_attention_mask(attention_mask, dtype)
        emb = self.embeddings(input_ids, token_type_ids)
        last, all_hidden, all_attn = self.encoder(emb, ext)
        return last, self.pooler(last), all_hidden, all_attn


class BertForSequenceClassification(nn.Module):
    def __init__(self, c, num_labels):
        super().__init__()
        self.bert = BertModel(c)
        p = c["classifier_dropout"] if c["classifier_dropout"] is not None else c["hidden_dropout_prob"]
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(c["hidden_size"], num_labels)

    def forward(self, input_ids, attention_mask, token_type_ids, labels):
        _, pooled, _, _ = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(pooled))
        # problem_type "single_label_classification" (num_labels > 1, integer labels)
        loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))
        return logits, loss


class CustomClassifier(nn.Module):
    """The notebook's head: Linear(hidden, 16) -> ReLU -> Dropout -> Linear(16, num_labels)."""

    def __init__(self, hidden, inner, num_labels, dropout):
        super().__init__()
        self.classification_head = nn.Sequential(
            nn.Linear(hidden, inner), nn.ReLU(), nn.Dropout(dropout), nn.Linear(inner, num_labels))

    def forward(self, features):
        return self.classification_head(features)


# ----------------------------------------------------------------------------------------------
# Init, I/O
# ----------------------------------------------------------------------------------------------

@torch.no_grad()
def randomise(module):
    """Deterministic init (in named_parameters order): std 0.2 weights, N(0,0.1) biases, LN 1+N(0,0.1)."""
    layer_norms = {n for n, m in module.named_modules() if isinstance(m, nn.LayerNorm)}
    for name, p in module.named_parameters():
        owner, _, leaf = name.rpartition(".")
        if owner in layer_norms:
            if leaf == "weight":
                p.copy_(1.0 + LN_STD * torch.randn_like(p))
            else:
                p.copy_(LN_STD * torch.randn_like(p))
        elif leaf == "bias":
            p.copy_(BIAS_STD * torch.randn_like(p))
        else:
            p.copy_(INIT_STD * torch.randn_like(p))
    # Note: the padding_idx row of word_embeddings is deliberately left random (HF's _init_weights
    # would zero it); a loaded checkpoint is used as-is either way.


def save_safetensors(path, tensors):
    """Write {name: float32 tensor} in the safetensors format, by hand."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = tensors[name].detach().cpu().contiguous().numpy().astype("<f4", copy=False)
        data = arr.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Minimal reader, used only to verify what save_safetensors wrote."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        s, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[base + s:base + e], dtype="<f4").reshape(info["shape"]).copy())
    return header, out


def make_inputs(vocab):
    """Three rows, lengths 11 / 7 / 4, right-padded with id 0 and mask 0; row 0 is a pair."""
    ids = torch.full((3, SEQ_LEN), PAD_ID, dtype=torch.int64)
    types = torch.zeros((3, SEQ_LEN), dtype=torch.int64)
    mask = torch.zeros((3, SEQ_LEN), dtype=torch.int64)
    for row, length in enumerate(LENGTHS):
        body = torch.randint(4, vocab, (length,), dtype=torch.int64)
        body[0] = CLS_ID
        body[-1] = SEP_ID
        ids[row, :length] = body
        mask[row, :length] = 1
    # row 0: [CLS] a a a a [SEP] | b b b b [SEP]  -> token type 1 on the second segment (positions 6..10)
    ids[0, 5] = SEP_ID
    types[0, 6:LENGTHS[0]] = 1
    return ids, types, mask


@torch.no_grad()
def cross_check_with_torch_nn(model, emb, attention_mask, expected_layers, c):
    """Run each BertLayer's weights through torch.nn.TransformerEncoderLayer and compare."""
    h = emb
    worst = 0.0
    key_padding_mask = attention_mask == 0
    for i, layer in enumerate(model.encoder.layer):
        ref = nn.TransformerEncoderLayer(c["hidden_size"], c["num_attention_heads"], c["intermediate_size"],
                                         dropout=0.0, activation="gelu", layer_norm_eps=c["layer_norm_eps"],
                                         batch_first=True, norm_first=False)
        a = layer.attention
        ref.self_attn.in_proj_weight.copy_(torch.cat([a.self.query.weight, a.self.key.weight, a.self.value.weight]))
        ref.self_attn.in_proj_bias.copy_(torch.cat([a.self.query.bias, a.self.key.bias, a.self.value.bias]))
        ref.self_attn.out_proj.weight.copy_(a.output.dense.weight)
        ref.self_attn.out_proj.bias.copy_(a.output.dense.bias)
        ref.norm1.load_state_dict(a.output.LayerNorm.state_dict())
        ref.linear1.load_state_dict(layer.intermediate.dense.state_dict())
        ref.linear2.load_state_dict(layer.output.dense.state_dict())
        ref.norm2.load_state_dict(layer.output.LayerNorm.state_dict())
        ref.train()  # dropout=0.0, and train() keeps it off the fused fast path
        h = ref(h, src_key_padding_mask=key_padding_mask)
        worst = max(worst, (h - expected_layers[i + 1]).abs().max().item())
        h = expected_layers[i + 1]
    return worst


def debian_torch_version():
    """The Debian package version of python3-torch (torch.__version__ says 1.13.0a0 there), if known."""
    try:
        import subprocess
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"], capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except Exception:
        return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "tests", "src", "test", "resources", "fixtures", "tiny-bert")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(default_out))
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float32)
    c = CONFIG

    # Parameters are drawn in this order: encoder (via BertForSequenceClassification: bert.*, then
    # classifier.*), then the custom head, then the inputs.
    seqcls = BertForSequenceClassification(c, NUM_LABELS)
    randomise(seqcls)
    custom = CustomClassifier(c["hidden_size"], CUSTOM_HIDDEN, NUM_LABELS, c["hidden_dropout_prob"])
    randomise(custom)
    input_ids, token_type_ids, attention_mask = make_inputs(c["vocab_size"])
    labels = torch.tensor(LABELS, dtype=torch.int64)

    seqcls.eval()
    custom.eval()
    bert = seqcls.bert

    with torch.no_grad():
        last, pooled, all_hidden, all_attn = bert(input_ids, attention_mask, token_type_ids)
        seq_logits, seq_loss = seqcls(input_ids, attention_mask, token_type_ids, labels)

        m = attention_mask.unsqueeze(-1).to(last.dtype)
        features = {
            "cls_only": last[:, 0],
            "average_all": (last * m).sum(dim=1) / m.sum(dim=1),
            "pooler": pooled,
        }
        custom_out = {}
        for name in POOLINGS:
            logits = custom(features[name])
            custom_out[name] = (logits, nn.functional.cross_entropy(logits, labels))

        # --- self-checks -------------------------------------------------------------------
        assert torch.allclose(last, all_hidden[-1])
        nn_diff = cross_check_with_torch_nn(bert, all_hidden[0], attention_mask, all_hidden, c)
        assert nn_diff < 1e-5, f"torch.nn.TransformerEncoderLayer disagrees: {nn_diff}"
        bert64 = BertModel(c).double()
        bert64.load_state_dict({k: v.double() for k, v in bert.state_dict().items()})
        bert64.eval()
        last64, pooled64, _, attn64 = bert64(input_ids, attention_mask, token_type_ids)
        f64_diff = max((last.double() - last64).abs().max().item(), (pooled.double() - pooled64).abs().max().item())
        for a in all_attn:  # padded keys get exactly zero probability
            assert torch.all(a.masked_select((attention_mask == 0)[:, None, None, :].expand_as(a)) == 0)

    # --- write --------------------------------------------------------------------------------
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")

    bert_sd = {k: v for k, v in bert.state_dict().items()}
    seqcls_sd = {k: v for k, v in seqcls.state_dict().items()}
    custom_sd = {k: v for k, v in custom.state_dict().items()}
    assert "embeddings.position_ids" not in bert_sd
    save_safetensors(os.path.join(out, "model.safetensors"), bert_sd)
    save_safetensors(os.path.join(out, "seqcls.safetensors"), seqcls_sd)
    save_safetensors(os.path.join(out, "custom_head.safetensors"), custom_sd)
    for fname, sd in [("model.safetensors", bert_sd), ("seqcls.safetensors", seqcls_sd),
                      ("custom_head.safetensors", custom_sd)]:
        _, back = load_safetensors(os.path.join(out, fname))
        assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd), fname

    def npy(name, t, dtype):
        np.save(os.path.join(out, name), np.array(t.detach().cpu().numpy(), dtype=dtype, order="C"))

    npy("input_ids.npy", input_ids, np.int64)
    npy("token_type_ids.npy", token_type_ids, np.int64)
    npy("attention_mask.npy", attention_mask, np.int64)
    npy("labels.npy", labels, np.int64)
    npy("last_hidden_state.npy", last, np.float32)
    npy("pooler_output.npy", pooled, np.float32)
    for i, h in enumerate(all_hidden):
        npy(f"hidden_states_{i}.npy", h, np.float32)
    for i, a in enumerate(all_attn):
        npy(f"attentions_{i}.npy", a, np.float32)
    npy("seqcls_logits.npy", seq_logits, np.float32)
    npy("seqcls_loss.npy", seq_loss, np.float32)
    for name in POOLINGS:
        npy(f"custom_{name}_logits.npy", custom_out[name][0], np.float32)
        npy(f"custom_{name}_loss.npy", custom_out[name][1], np.float32)

    deb = debian_torch_version()
    readme = f"""# tiny-bert fixtures

Generated by `scripts/make_fixtures.py` (run: `/usr/bin/python3 scripts/make_fixtures.py`) with
PyTorch {torch.__version__} ({"Debian python3-torch " + deb if deb else "not from Debian's python3-torch"}), NumPy {np.__version__}, Python {sys.version.split()[0]},
`torch.manual_seed({SEED})`, eval mode (no dropout), float32 on CPU. Do not edit by hand; re-run the script.

The reference model is a plain-PyTorch re-implementation of Hugging Face transformers' `BertModel`
(transformers is not packaged for Debian), with HF parameter names. Attention mask:
`scores + (1 - mask) * torch.finfo(torch.float32).min` (= {torch.finfo(torch.float32).min!r}), as HF's
`get_extended_attention_mask`. GELU is the exact erf form.

- `config.json`: HF BertConfig (vocab 50, hidden 32, 2 layers, 4 heads, intermediate 37, 24 positions).
- `model.safetensors`: BertModel state dict (pooler included), F32. Weights ~ N(0, {INIT_STD}), biases ~ N(0, {BIAS_STD}),
  LayerNorm weight ~ 1 + N(0, {LN_STD}); the word-embedding row of pad id 0 is random (not zeroed).
- `seqcls.safetensors`: the same encoder as BertForSequenceClassification saves it (`bert.*` + `classifier.weight` [3,32],
  `classifier.bias` [3]).
- `custom_head.safetensors`: `classification_head.{{0,3}}.{{weight,bias}}` of
  Linear(32,16) -> ReLU -> Dropout -> Linear(16,3).
- inputs (int64 [3,11]): `input_ids.npy`, `token_type_ids.npy`, `attention_mask.npy`; real lengths 11, 7, 4,
  right-padded with id 0 / mask 0; row 0 is a pair (token type 1 on positions 6..10). `labels.npy` int64 [3] = {LABELS}.
- outputs (float32): `last_hidden_state.npy` [3,11,32], `pooler_output.npy` [3,32], `hidden_states_{{0,1,2}}.npy`
  (embeddings output, then each layer), `attentions_{{0,1}}.npy` [3,4,11,11] (softmax probabilities),
  `seqcls_logits.npy` [3,3], `seqcls_loss.npy` (scalar, mean cross-entropy),
  `custom_{{cls_only,average_all,pooler}}_logits.npy` [3,3] and `..._loss.npy` (scalar). Features:
  cls_only = last_hidden_state[:,0]; average_all = sum(h*mask)/sum(mask) over real tokens; pooler = pooler_output.

Values at padded positions of `last_hidden_state` / `hidden_states_*` are what BertModel computes there
(not zeroed). Max |float32 - float64| of this model on these inputs: {f64_diff:.2e}.
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme)

    # --- summary ------------------------------------------------------------------------------
    print(f"torch {torch.__version__}, numpy {np.__version__}, seed {SEED}")
    print(f"params: BertModel {sum(v.numel() for v in bert_sd.values())}, "
          f"seqcls {sum(v.numel() for v in seqcls_sd.values())}, custom {sum(v.numel() for v in custom_sd.values())}")
    print(f"check vs torch.nn.TransformerEncoderLayer: max |diff| {nn_diff:.2e}; float32 vs float64: {f64_diff:.2e}")
    print("input_ids:\n" + str(input_ids.numpy()))
    print("token_type_ids:\n" + str(token_type_ids.numpy()))
    print(f"last_hidden_state std {last.std().item():.4f}, pooler_output std {pooled.std().item():.4f}")
    print(f"seqcls logits {np.round(seq_logits.numpy().astype(np.float64), 4).tolist()} loss {seq_loss.item():.6f}")
    for name in POOLINGS:
        lg, ls = custom_out[name]
        print(f"custom {name}: logits {np.round(lg.numpy().astype(np.float64), 4).tolist()} loss {ls.item():.6f}")
    total = 0
    for fname in sorted(os.listdir(out)):
        size = os.path.getsize(os.path.join(out, fname))
        total += size
        print(f"  {size:8d}  {fname}")
    print(f"  {total:8d}  total in {out}")
    assert total < 500 * 1024, "fixtures exceed 500 KB"


if __name__ == "__main__":
    main()
