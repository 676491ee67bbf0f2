#!/usr/bin/env python3
"""Recursive multi-step forecasts in PyTorch: the independent source for webrnn's forecasting
(src/reference/forecast.ts and the GPU path), tested in test/forecast.test.ts.

A batch-first nn.RNN / nn.LSTM / nn.GRU (1–2 layers) + nn.Linear reads a history x [B, T, I], then
for H steps its prediction (O outputs) is fed back as the first O input features, the other I − O
features coming from known future covariates. Float64 from float32-rounded weights and inputs.

Run with Debian's python3-torch:   /usr/bin/python3 test/golden/make_torch_forecast.py
Writes test/data/torch-grads/forecast.json.
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "torch-grads", "forecast.json")

# name, cell, nonlinearity, layers, I, H, O, B, T, horizon
CASES = [
    ("rnn_relu_univariate", "RNN", "relu", 1, 1, 4, 1, 3, 6, 5),
    ("lstm_2layers_exog2", "LSTM", None, 2, 3, 5, 1, 4, 7, 6),
    ("gru_two_outputs_exog1", "GRU", None, 1, 3, 6, 2, 2, 5, 4),
]


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def main():
    cases = []
    for i, (name, cell, act, L, I, H, O, B, T, horizon) in enumerate(CASES):
        torch.manual_seed(5000 + i)
        kwargs = dict(input_size=I, hidden_size=H, num_layers=L, batch_first=True)
        if act:
            kwargs["nonlinearity"] = act
        rnn = getattr(nn, cell)(**kwargs).double()
        head = nn.Linear(H, O).double()
        with torch.no_grad():
            for p in list(rnn.parameters()) + list(head.parameters()):
                p.copy_(f32(p))
        x = f32(torch.rand(B, T, I, dtype=torch.float64) * 2 - 1)
        exog = f32(torch.rand(B, horizon, I - O, dtype=torch.float64) * 2 - 1)
        with torch.no_grad():
            y, state = rnn(x)
            last = head(y[:, -1])
            preds = [last]
            for k in range(horizon - 1):
                step = torch.cat([last, exog[:, k]], dim=1).unsqueeze(1)
                y, state = rnn(step, state)
                last = head(y[:, -1])
                preds.append(last)
            out = torch.stack(preds, dim=1)
        sd = {f"{cell.lower()}.{k}": v.flatten().tolist() for k, v in rnn.state_dict().items()}
        sd.update({f"head.{k}": v.flatten().tolist() for k, v in head.state_dict().items()})
        cases.append({
            "name": name, "cell": cell.lower(), "nonlinearity": act, "numLayers": L, "inputSize": I, "hiddenSize": H,
            "outputSize": O, "batch": B, "steps": T, "horizon": horizon, "stateDict": sd,
            "history": x.flatten().tolist(), "futureExog": exog.flatten().tolist() if I > O else None,
            "forecast": out.flatten().tolist(),
        })
    with open(OUT, "w") as f:
        json.dump({"source": f"torch {torch.__version__}, float64 from float32-rounded values", "cases": cases}, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
