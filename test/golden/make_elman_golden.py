#!/usr/bin/env python3
"""Golden outputs of PyTorch's nn.RNN + nn.Linear, the independent source the float64 CPU reference
is tested against (test/reference.test.ts).

Run with Debian's python3-torch:   /usr/bin/python3 test/golden/make_elman_golden.py
Writes test/golden/elman_torch.json. Everything runs in float64 so the comparison is tight; the
weights and inputs are rounded to float32 first, since that is what webrnn stores.
"""
import json
import os

import torch

CONFIGS = [
    # name, I, H, O, L, nonlinearity, B, T, with_h0
    ("l1_relu", 3, 4, 2, 1, "relu", 2, 5, False),
    ("l1_tanh", 2, 5, 3, 1, "tanh", 3, 4, True),
    ("l2_relu", 4, 3, 2, 2, "relu", 2, 6, True),
    ("l2_tanh", 3, 6, 4, 2, "tanh", 2, 5, False),
    ("l3_tanh_wide_out", 1, 2, 5, 3, "tanh", 4, 3, True),
]


def f32_round(t):
    return t.to(torch.float32).to(torch.float64)


def main():
    cases = []
    for i, (name, I, H, O, L, act, B, T, with_h0) in enumerate(CONFIGS):
        torch.manual_seed(1000 + i)
        rnn = torch.nn.RNN(I, H, num_layers=L, nonlinearity=act, batch_first=True).double()
        head = torch.nn.Linear(H, O).double()
        with torch.no_grad():
            for p in list(rnn.parameters()) + list(head.parameters()):
                p.copy_(f32_round(p * 1.5))  # wider than the default init, so the activations matter
        x = f32_round(torch.randn(B, T, I, dtype=torch.float64))
        h0 = f32_round(torch.randn(L, B, H, dtype=torch.float64) * 0.5) if with_h0 else None
        with torch.no_grad():
            out, hn = rnn(x, h0)
            y = head(out)
        cases.append({
            "name": name,
            "config": {"inputSize": I, "hiddenSize": H, "outputSize": O, "numLayers": L, "nonlinearity": act},
            "batch": B,
            "steps": T,
            "rnn": {k: v.flatten().tolist() for k, v in rnn.state_dict().items()},
            "readout": {k: v.flatten().tolist() for k, v in head.state_dict().items()},
            "x": x.flatten().tolist(),
            "h0": h0.flatten().tolist() if h0 is not None else None,
            "y": y.flatten().tolist(),
            "hn": hn.flatten().tolist(),
        })
    out = {
        "source": f"torch {torch.__version__}, nn.RNN(batch_first=True) + nn.Linear in float64",
        "script": "test/golden/make_elman_golden.py",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "elman_torch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
