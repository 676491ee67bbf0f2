#!/usr/bin/env python3
"""A few whole training steps in PyTorch: the independent source that webrnn's trainer (its float64
engine, src/train/cpu-engine.ts, and through it the WebGPU engine) is tested against in
test/trainer-golden.test.ts. Where make_torch_grads.py checks one gradient and one optimizer update
at a time, this checks them composed: forward, loss, backward, clipping, schedule and update, step
after step, on the same model.

Run with Debian's python3-torch:   /usr/bin/python3 test/golden/make_torch_training.py
Writes test/data/torch-grads/training.json: per case a batch-first nn.RNN / nn.LSTM / nn.GRU +
nn.Linear (its float32 initial weights by PyTorch name), one full batch x [N, T, I] and targets
y [N, T, O], the loss (MSE over all steps, or MAE over the last h), the optimizer, schedule and
clipping, and after each of STEPS steps the loss before the update and every parameter.

Float64 throughout from float32-rounded weights and data, so webrnn's float64 engine agrees to
rounding. The whole batch is one step, so the order webrnn shuffles it in does not matter.
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "torch-grads", "training.json")
STEPS = 4

# name, cell, nonlinearity, I, H, O, N, T, loss (kind, last h or None), optimizer, schedule, clip
CASES = [
    ("rnn_tanh_sgd_momentum_clip_norm", "RNN", "tanh", 2, 4, 1, 5, 6, ("mse", None),
     {"kind": "sgd", "lr": 0.1, "momentum": 0.9}, {"kind": "step", "stepSize": 2, "gamma": 0.5}, {"kind": "norm", "maxNorm": 0.3}),
    ("lstm_adam_cosine_mae_last3", "LSTM", None, 1, 3, 2, 4, 5, ("mae", 3),
     {"kind": "adam", "lr": 0.05}, {"kind": "cosine", "tMax": 3, "etaMin": 0.001}, None),
    ("gru_adamw_clip_value", "GRU", None, 3, 5, 1, 6, 4, ("mse", None),
     {"kind": "adamw", "lr": 0.03, "weightDecay": 0.05}, {"kind": "constant"}, {"kind": "value", "clipValue": 0.05}),
]


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def make_case(i, case):
    name, cell, act, I, H, O, N, T, (kind, last), opt, sched, clip = case
    torch.manual_seed(4000 + i)
    kwargs = dict(input_size=I, hidden_size=H, batch_first=True)
    if cell == "RNN":
        kwargs["nonlinearity"] = act
    rnn = getattr(nn, cell)(**kwargs).double()
    head = nn.Linear(H, O).double()
    prefix = cell.lower()
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.copy_(f32(p))
    initial = {f"{prefix}.{k}": v.flatten().tolist() for k, v in rnn.state_dict().items()}
    initial.update({f"head.{k}": v.flatten().tolist() for k, v in head.state_dict().items()})
    x = f32(torch.rand(N, T, I, dtype=torch.float64) * 2 - 1)
    y = f32(torch.rand(N, T, O, dtype=torch.float64) * 2 - 1)

    params = list(rnn.parameters()) + list(head.parameters())
    if opt["kind"] == "sgd":
        optimizer = torch.optim.SGD(params, lr=opt["lr"], momentum=opt.get("momentum", 0))
    elif opt["kind"] == "adam":
        optimizer = torch.optim.Adam(params, lr=opt["lr"])
    else:
        optimizer = torch.optim.AdamW(params, lr=opt["lr"], weight_decay=opt["weightDecay"])
    if sched["kind"] == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=sched["stepSize"], gamma=sched["gamma"])
    elif sched["kind"] == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=sched["tMax"], eta_min=sched["etaMin"])
    else:
        scheduler = None

    steps = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        out = head(rnn(x)[0])
        sel = slice(T - last, T) if last else slice(0, T)
        err = out[:, sel] - y[:, sel]
        loss = (err ** 2).mean() if kind == "mse" else err.abs().mean()
        loss.backward()
        if clip and clip["kind"] == "norm":
            torch.nn.utils.clip_grad_norm_(params, clip["maxNorm"])
        elif clip:
            torch.nn.utils.clip_grad_value_(params, clip["clipValue"])
        optimizer.step()
        if scheduler:
            scheduler.step()
        after = {f"{prefix}.{k}": v.flatten().tolist() for k, v in rnn.state_dict().items()}
        after.update({f"head.{k}": v.flatten().tolist() for k, v in head.state_dict().items()})
        steps.append({"loss": loss.item(), "params": after})
    return {
        "name": name, "cell": prefix, "nonlinearity": act, "inputSize": I, "hiddenSize": H, "outputSize": O,
        "count": N, "steps": T, "loss": {"kind": kind, "steps": {"last": last} if last else "all"},
        "optimizer": opt, "schedule": sched, "clip": clip,
        "initial": initial, "x": x.flatten().tolist(), "y": y.flatten().tolist(), "trajectory": steps,
    }


def main():
    cases = [make_case(i, c) for i, c in enumerate(CASES)]
    with open(OUT, "w") as f:
        json.dump({"source": f"torch {torch.__version__}, float64 from float32-rounded values", "cases": cases}, f)
    print(f"wrote {OUT}: {len(cases)} cases, {STEPS} steps each")


if __name__ == "__main__":
    main()
