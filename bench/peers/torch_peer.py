#!/usr/bin/env python3
"""PyTorch on the CPU as a peer of webrnn's benchmarks (bench/peers/pytorch.ts starts it).

One long-lived process serves requests from Node, one at a time, over stdin/stdout. Every message,
either way, is one frame:

    u32 LE  header length h      u64 LE  payload length p      h bytes  header (UTF-8 JSON)      p bytes  payload

The header names the payload's tensors in order, `"tensors": [{"name": ..., "shape": [...]}]`; the
payload is their float32 little-endian values back to back (no float array is ever JSON). Replies
carry `"ok": true`, or `"ok": false` with `"error"` (the exception's type and message). Nothing else
is written to stdout: print() goes to stderr.

Requests (`op`):
  hello           {threads}: torch.set_num_threads(threads); replies with the versions, the threads and
                  the BLAS libraries loaded.
                  If `import torch` failed, this is where the reply says why.
  forward.prepare {handle, module, tensors: the state dict by PyTorch name, then `x` [B, T, I]}
  forward.run     {handle}: the forward pass under torch.no_grad(); replies `output` [B, T, O] and
                  `ms`, time.perf_counter() around the forward alone (no IPC, no copies).
  train.prepare   {handle, module, batch, stepsPerEpoch, loss, optimizer, tensors: state dict, `x`
                  [N, T, I], `y` [N, T, O]} with N = batch * stepsPerEpoch.
  train.epoch     {handle}: stepsPerEpoch Adam steps, step k on samples k*batch ... (k+1)*batch - 1
                  (zero_grad, forward, loss, backward, step, loss.item()); replies `losses` (each
                  step's loss, before its update), `ms` (perf_counter around the whole loop) and the
                  weights after the last step, by name.
  release         {handle}: forgets a prepared model.
End of input ends the process.
"""
import json
import os
import struct
import sys
import time

FRAME = struct.Struct("<IQ")

# Frames go to the real stdout; anything printed goes to stderr.
STDIN = sys.stdin.buffer
STDOUT = sys.stdout.buffer
sys.stdout = sys.stderr

try:
    import numpy as np
    import torch
    from torch import nn

    IMPORT_ERROR = None
except Exception as e:  # reported by `hello`, so Node can say why the peer is unavailable
    IMPORT_ERROR = f"{type(e).__name__}: {e}"


class PeerError(Exception):
    """A request this peer cannot serve (bad handle, unsupported module, missing tensor)."""


def read_exact(n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = STDIN.readinto(view[got:])
        if not k:
            return None
        got += k
    return buf


def read_frame():
    """The next request: its header and its payload's bytes; None at the end of input."""
    head = read_exact(FRAME.size)
    if head is None:
        return None
    h, p = FRAME.unpack(head)
    header = json.loads(read_exact(h).decode("utf-8"))
    return header, (read_exact(p) if p else bytearray())


def tensors_of(header, payload):
    """The payload as the float32 tensors the header names, by name (views of the payload)."""
    tensors = {}
    offset = 0
    for t in header.get("tensors", []):
        count = 1
        for d in t["shape"]:
            count *= d
        values = np.frombuffer(payload, dtype="<f4", count=count, offset=offset)
        tensors[t["name"]] = torch.from_numpy(values).reshape(t["shape"])
        offset += 4 * count
    if offset != len(payload):
        raise PeerError(f"the payload has {len(payload)} bytes but the header's tensors need {offset}")
    return tensors


def write_frame(header, tensors=()):
    """tensors: (name, torch.Tensor) pairs, sent as float32."""
    blobs = []
    described = []
    for name, t in tensors:
        a = t.detach().to(torch.float32).contiguous().numpy()
        described.append({"name": name, "shape": list(a.shape)})
        blobs.append(a.astype("<f4", copy=False).tobytes())
    if described:
        header = {**header, "tensors": described}
    body = json.dumps(header).encode("utf-8")
    payload = b"".join(blobs)
    STDOUT.write(FRAME.pack(len(body), len(payload)))
    STDOUT.write(body)
    STDOUT.write(payload)
    STDOUT.flush()


CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


class Net:
    """nn.RNN / nn.LSTM / nn.GRU (batch_first) and an optional nn.Linear at every step, named as webrnn names them."""

    def __init__(self, m, state):
        if m["cell"] not in CELLS:
            raise PeerError(f"unknown cell {m['cell']!r}")
        kwargs = dict(
            input_size=m["inputSize"],
            hidden_size=m["hiddenSize"],
            num_layers=m["numLayers"],
            bias=m["bias"],
            batch_first=True,
            bidirectional=m["bidirectional"],
        )
        if m["cell"] == "rnn":
            kwargs["nonlinearity"] = m["nonlinearity"]
        self.prefix = m["prefix"]
        self.head_prefix = m["headPrefix"]
        self.rnn = getattr(nn, CELLS[m["cell"]])(**kwargs)
        features = m["hiddenSize"] * (2 if m["bidirectional"] else 1)
        self.head = None if m["outputSize"] is None else nn.Linear(features, m["outputSize"], bias=m["headBias"])
        self.rnn.load_state_dict(self.under(state, self.prefix), strict=True)
        if self.head is not None:
            self.head.load_state_dict(self.under(state, self.head_prefix), strict=True)

    @staticmethod
    def under(state, prefix):
        start = f"{prefix}." if prefix else ""
        return {k[len(start):]: v.clone() for k, v in state.items() if k.startswith(start) and "." not in k[len(start):]}

    def modules(self):
        return [self.rnn] if self.head is None else [self.rnn, self.head]

    def parameters(self):
        return [p for m in self.modules() for p in m.parameters()]

    def train(self, mode=True):
        for m in self.modules():
            m.train(mode)
        return self

    def __call__(self, x):
        y, _ = self.rnn(x)
        return y if self.head is None else self.head(y)

    def named_weights(self, names):
        """The weights by webrnn's (prefixed) names, in the order asked for."""
        own = {}
        for k, v in self.rnn.state_dict().items():
            own[f"{self.prefix}.{k}" if self.prefix else k] = v
        if self.head is not None:
            for k, v in self.head.state_dict().items():
                own[f"{self.head_prefix}.{k}"] = v
        missing = [n for n in names if n not in own]
        if missing:
            raise PeerError(f"the module has no parameter {missing[0]}")
        return [(n, own[n]) for n in names]


def state_of(tensors, names):
    missing = [n for n in names if n not in tensors]
    if missing:
        raise PeerError(f"no tensor {missing[0]} in the request")
    return {n: tensors[n] for n in names}


class Forward:
    def __init__(self, header, tensors):
        self.net = Net(header["module"], state_of(tensors, header["params"])).train(False)
        if "x" not in tensors:
            raise PeerError("forward.prepare needs the input x")
        self.x = tensors["x"]

    def run(self):
        with torch.no_grad():
            start = time.perf_counter()
            out = self.net(self.x)
            ms = (time.perf_counter() - start) * 1000
        return {"ms": ms}, [("output", out)]


class Training:
    def __init__(self, header, tensors):
        self.names = header["params"]
        self.net = Net(header["module"], state_of(tensors, self.names)).train()
        self.batch = header["batch"]
        self.steps = header["stepsPerEpoch"]
        self.x = tensors["x"]
        self.y = tensors["y"]
        if self.x.shape[0] != self.batch * self.steps or self.y.shape[0] != self.x.shape[0]:
            raise PeerError(f"x and y must hold batch * stepsPerEpoch = {self.batch * self.steps} samples, got {self.x.shape[0]} and {self.y.shape[0]}")
        loss = header["loss"]
        self.first = 0 if loss["steps"] == "all" else self.x.shape[1] - loss["steps"]["last"]
        self.loss = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}[loss["kind"]]
        o = header["optimizer"]
        if o["kind"] not in ("adam", "adamw"):
            raise PeerError(f"optimizer {o['kind']!r}: this peer runs adam and adamw")
        optim = torch.optim.Adam if o["kind"] == "adam" else torch.optim.AdamW
        self.opt = optim(self.net.parameters(), lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weightDecay"])

    def epoch(self):
        losses = []
        start = time.perf_counter()
        for k in range(self.steps):
            rows = slice(k * self.batch, (k + 1) * self.batch)
            self.opt.zero_grad(set_to_none=True)
            out = self.net(self.x[rows])
            loss = self.loss(out[:, self.first:], self.y[rows, self.first:])
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        ms = (time.perf_counter() - start) * 1000
        return {"ms": ms, "losses": losses}, self.net.named_weights(self.names)


def serve():
    prepared = {}

    def lookup(header, kind):
        p = prepared.get(header.get("handle"))
        if not isinstance(p, kind):
            raise PeerError(f"no {kind.__name__.lower()} model prepared under handle {header.get('handle')}")
        return p

    while True:
        frame = read_frame()
        if frame is None:
            return
        header, payload = frame
        op = header.get("op")
        try:
            tensors = tensors_of(header, payload) if IMPORT_ERROR is None else {}
            if op == "hello":
                if IMPORT_ERROR is not None:
                    write_frame({"ok": False, "error": IMPORT_ERROR})
                    continue
                torch.set_num_threads(int(header["threads"]))
                write_frame({
                    "ok": True,
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                    "threads": torch.get_num_threads(),
                    "blas": blas_libraries(),
                })
            elif IMPORT_ERROR is not None:
                raise PeerError(IMPORT_ERROR)
            elif op == "forward.prepare":
                prepared[header["handle"]] = Forward(header, tensors)
                write_frame({"ok": True})
            elif op == "forward.run":
                reply(*lookup(header, Forward).run())
            elif op == "train.prepare":
                prepared[header["handle"]] = Training(header, tensors)
                write_frame({"ok": True})
            elif op == "train.epoch":
                reply(*lookup(header, Training).epoch())
            elif op == "release":
                prepared.pop(header.get("handle"), None)
                write_frame({"ok": True})
            else:
                raise PeerError(f"unknown op {op!r}")
        except Exception as e:  # the request fails, the process serves the next one
            write_frame({"ok": False, "error": f"{type(e).__name__}: {e}"})


def blas_libraries():
    """The BLAS shared libraries this process has loaded (Debian's torch uses whatever libblas.so.3 points to)."""
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS is loaded
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    named = []
    for path in sorted(os.path.realpath(p) for p in paths):
        # Debian's libblas3 (the alternative libblas.so.3 points to when no optimised BLAS is installed)
        named.append(f"{path} (Netlib reference BLAS)" if "/blas/libblas" in path else path)
    return ", ".join(named) or "none loaded"


def reply(fields, tensors):
    write_frame({"ok": True, **fields}, tensors)


if __name__ == "__main__":
    serve()
