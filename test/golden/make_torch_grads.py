#!/usr/bin/env python3
"""PyTorch's gradients and optimizer steps: the independent source that webrnn's float64 training
references (src/reference/recurrent-*-backward.ts, src/train/loss.ts, src/reference/optim.ts) are
tested against in test/train-reference.test.ts.

Run with Debian's python3-torch:   /usr/bin/python3 test/golden/make_torch_grads.py
Writes test/data/torch-grads/:
  grads.json   per case: nn.RNN / nn.LSTM / nn.GRU (batch_first) + nn.Linear, its float32 weights by
               PyTorch name, inputs (x, h0, c0, lengths through pack_padded_sequence), targets, the
               loss (MSE over all steps or MAE over the last h, optionally masked for padding), its
               value, the output, and the gradients of every parameter, of x and of h0 / c0
  optim.json   per case: SGD (momentum, dampening, nesterov, weight decay), Adam or AdamW, with a
               StepLR or CosineAnnealingLR schedule and clip_grad_norm_ or clip_grad_value_: the
               initial parameters, the gradient given at each step, the learning rate each step used,
               the total norm clip_grad_norm_ returned, and the parameters after each step

Everything is computed in float64 from float32-rounded weights, inputs and gradients (what webrnn
stores), so the float64 references agree to rounding (~1e-12).
"""
import json
import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "torch-grads")


def f32_round(t):
    return t.to(torch.float32).to(torch.float64)


def flat(t):
    return None if t is None else t.detach().flatten().tolist()


# name, cell, I, H, layers, bidirectional, nonlinearity, O, B, T, h0, c0, lengths, loss
# loss: ("mse", "all" | h, masked) or ("mae", ...); masked: mask padded steps (from the lengths)
GRAD_CASES = [
    ("rnn_tanh_h0_mse", "RNN", 3, 4, 1, False, "tanh", 2, 3, 5, True, False, None, ("mse", "all", False)),
    ("rnn_relu_l2_bidir_lengths_mae_last3", "RNN", 2, 3, 2, True, "relu", 1, 3, 5, False, False, [5, 2, 4], ("mae", 3, True)),
    ("lstm_l2_bidir_h0c0_mse", "LSTM", 3, 3, 2, True, None, 2, 2, 4, True, True, None, ("mse", "all", False)),
    ("lstm_lengths_h0c0_mae_last2", "LSTM", 2, 4, 1, False, None, 1, 3, 4, True, True, [4, 1, 3], ("mae", 2, True)),
    ("gru_l2_bidir_lengths_h0_mse_masked", "GRU", 2, 3, 2, True, None, 2, 3, 5, True, False, [3, 5, 1], ("mse", "all", True)),
    ("gru_mae_last2", "GRU", 3, 4, 1, False, None, 1, 2, 4, False, False, None, ("mae", 2, False)),
]


def make_grad_case(i, case):
    name, cell, I, H, L, bidir, act, O, B, T, with_h0, with_c0, lengths, (kind, steps, masked) = case
    torch.manual_seed(3000 + i)
    D = 2 if bidir else 1
    kwargs = dict(input_size=I, hidden_size=H, num_layers=L, bidirectional=bidir, batch_first=True)
    if cell == "RNN":
        kwargs["nonlinearity"] = act
    rnn = getattr(nn, cell)(**kwargs).double()
    head = nn.Linear(D * H, O).double()
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.copy_(f32_round(p * 1.5))  # wider than the default init, so the nonlinearities matter

    x = f32_round(torch.randn(B, T, I, dtype=torch.float64)).requires_grad_()
    target = f32_round(torch.randn(B, T, O, dtype=torch.float64))
    h0 = f32_round(torch.randn(L * D, B, H, dtype=torch.float64) * 0.5).requires_grad_() if with_h0 else None
    c0 = f32_round(torch.randn(L * D, B, H, dtype=torch.float64) * 0.5).requires_grad_() if with_c0 else None
    state = (h0, c0) if cell == "LSTM" and h0 is not None else h0

    if lengths is None:
        out, _ = rnn(x, state)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    y = head(out)

    # Steps the loss reads, and the mask of real (unpadded) steps.
    first = 0 if steps == "all" else T - steps
    mask = torch.ones(B, T, dtype=torch.float64)
    if masked:
        mask = (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).to(torch.float64)
    pointwise = nn.functional.mse_loss if kind == "mse" else nn.functional.l1_loss
    if masked:
        m = mask[:, first:, None].expand(B, T - first, O)
        loss = (pointwise(y[:, first:], target[:, first:], reduction="none") * m).sum() / m.sum()
    else:
        loss = pointwise(y[:, first:], target[:, first:])  # the mean over every selected element
    loss.backward()

    params = {}
    grads = {}
    for prefix, module in (("rnn", rnn), ("head", head)):
        for k, p in module.named_parameters():
            params[f"{prefix}.{k}"] = flat(p)
            grads[f"{prefix}.{k}"] = flat(p.grad)
    return {
        "name": name,
        "options": {
            "cell": cell.lower(), "inputSize": I, "hiddenSize": H, "numLayers": L, "bidirectional": bidir,
            "batchFirst": True, "outputSize": O, "prefix": "rnn", "headPrefix": "head",
            **({"nonlinearity": act} if cell == "RNN" else {}),
        },
        "batch": B,
        "steps": T,
        "loss": {"kind": kind, "steps": "all" if steps == "all" else {"last": steps}},
        "mask": flat(mask) if masked else None,
        "x": flat(x),
        "target": flat(target),
        "h0": flat(h0),
        "c0": flat(c0),
        "lengths": lengths,
        "params": params,
        "output": flat(y),
        "value": loss.item(),
        "grads": grads,
        "dx": flat(x.grad),
        "dh0": flat(h0.grad) if h0 is not None else None,
        "dc0": flat(c0.grad) if c0 is not None else None,
    }


# name, optimizer (class, kwargs), schedule (class, kwargs) or None, clip ("norm" | "value", bound) or None
OPTIM_CASES = [
    ("sgd_nesterov_wd_steplr_clipnorm", ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
     ("StepLR", dict(step_size=2, gamma=0.5)), ("norm", 1.0)),
    ("sgd_momentum_dampening_clipvalue", ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)), None, ("value", 0.5)),
    ("sgd_plain_wd_cosine", ("SGD", dict(lr=0.2, weight_decay=0.1)), ("CosineAnnealingLR", dict(T_max=3, eta_min=0.01)), None),
    ("adam_wd_cosine_clipnorm", ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
     ("CosineAnnealingLR", dict(T_max=4, eta_min=1e-3)), ("norm", 0.8)),
    ("adam_defaults_steplr", ("Adam", dict(lr=0.02)), ("StepLR", dict(step_size=1, gamma=0.7)), None),
    ("adamw_steplr_clipvalue", ("AdamW", dict(lr=0.05, weight_decay=0.1)), ("StepLR", dict(step_size=3, gamma=0.2)), ("value", 0.3)),
    ("adamw_cosine_past_tmax_clipnorm", ("AdamW", dict(lr=0.03, betas=(0.85, 0.99), eps=1e-7)),
     ("CosineAnnealingLR", dict(T_max=3)), ("norm", 2.0)),
]
OPTIM_SHAPES = {"weight": (3, 2), "bias": (4,)}
OPTIM_STEPS = 5


def make_optim_case(i, case):
    name, (opt_class, opt_kwargs), schedule, clip = case
    torch.manual_seed(4000 + i)
    params = {k: f32_round(torch.randn(*s, dtype=torch.float64)).requires_grad_() for k, s in OPTIM_SHAPES.items()}
    initial = {k: flat(p) for k, p in params.items()}
    opt = getattr(torch.optim, opt_class)(list(params.values()), **opt_kwargs)
    sched = getattr(torch.optim.lr_scheduler, schedule[0])(opt, **schedule[1]) if schedule else None
    steps = []
    for n in range(OPTIM_STEPS):
        # Gradients of changing size, some large enough to be clipped and some not.
        scale = [0.3, 3.0, 0.05, 1.5, 0.8][n]
        grads = {k: f32_round(torch.randn(*s, dtype=torch.float64) * scale) for k, s in OPTIM_SHAPES.items()}
        for k, p in params.items():
            p.grad = grads[k].clone()
        norm = None
        if clip and clip[0] == "norm":
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), clip[1]).item()
        elif clip:
            torch.nn.utils.clip_grad_value_(list(params.values()), clip[1])
        lr = opt.param_groups[0]["lr"]
        opt.step()
        if sched:
            sched.step()
        steps.append({"grads": {k: flat(g) for k, g in grads.items()}, "lr": lr, "gradNorm": norm,
                      "params": {k: flat(p) for k, p in params.items()}})
    return {
        "name": name,
        "optimizer": {"class": opt_class, **{k: list(v) if isinstance(v, tuple) else v for k, v in opt_kwargs.items()}},
        "schedule": None if schedule is None else {"class": schedule[0], **schedule[1]},
        "clip": None if clip is None else {"kind": clip[0], "bound": clip[1]},
        "shapes": {k: list(s) for k, s in OPTIM_SHAPES.items()},
        "initial": initial,
        "steps": steps,
    }


def write(name, payload):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump({"source": f"torch {torch.__version__}, float64 from float32-rounded values",
                   "script": "test/golden/make_torch_grads.py", **payload}, f)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    grads = [make_grad_case(i, c) for i, c in enumerate(GRAD_CASES)]
    optim = [make_optim_case(i, c) for i, c in enumerate(OPTIM_CASES)]
    write("grads.json", {"cases": grads})
    write("optim.json", {"cases": optim})
    print(f"wrote {len(grads)} gradient cases and {len(optim)} optimizer cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
