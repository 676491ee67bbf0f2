#!/usr/bin/env python3
"""Forecast metrics, seasonal-naive forecasts and per-series scalers computed with numpy: the
independent source src/forecast/metrics.ts and src/forecast/scaling.ts are tested against
(test/forecast-metrics.test.ts). The formulas are the M4 competition's (sMAPE in percent, MASE scaled
by the in-sample seasonal naive MAE); numpy's default percentile (linear interpolation) for the
robust scaler.

Run with Debian's python3:   /usr/bin/python3 test/golden/make_forecast_metrics.py
Writes test/data/forecast/metrics.json.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "forecast", "metrics.json")


def smape(y, f):
    d = np.abs(y) + np.abs(f)
    terms = np.where(d > 0, 2 * np.abs(y - f) / np.where(d > 0, d, 1), 0.0)
    return 100 * terms.mean()


def main():
    rng = np.random.default_rng(20261125)
    cases = []
    for i, (n, h, s) in enumerate([(30, 6, 12), (50, 12, 12), (10, 3, 1), (24, 4, 7), (13, 5, 12)]):
        t = np.arange(n + h)
        x = 10 + 0.1 * t + 3 * np.sin(2 * np.pi * t / max(s, 2)) + rng.normal(0, 1, n + h)
        if i == 3:
            x[n + 1] = 0.0  # a zero actual
        history, actual = x[:n], x[n:]
        forecast = actual + rng.normal(0, 0.5, h)
        if i == 3:
            forecast[1] = 0.0  # y = ŷ = 0: an sMAPE term of 0
        naive = np.array([history[n - s + (k % s)] for k in range(h)])
        scale = np.mean(np.abs(history[s:] - history[:-s]))
        q25, q50, q75 = np.percentile(history, [25, 50, 75])
        cases.append({
            "history": history.tolist(), "actual": actual.tolist(), "forecast": forecast.tolist(), "season": s,
            "mae": float(np.mean(np.abs(actual - forecast))),
            "rmse": float(np.sqrt(np.mean((actual - forecast) ** 2))),
            "smape": float(smape(actual, forecast)),
            "mase": float(np.mean(np.abs(actual - forecast)) / scale),
            "seasonalNaive": naive.tolist(),
            "standard": [float(history.mean()), float(history.std())],
            "minmax": [float(history.min()), float(history.max() - history.min())],
            "robust": [float(q50), float(q75 - q25)],
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"source": f"numpy {np.__version__}", "cases": cases}, f, indent=1)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
