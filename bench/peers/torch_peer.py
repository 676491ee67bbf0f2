#!/usr/bin/env python3
"""PyTorch on the CPU or on CUDA as a peer of webrnn's benchmarks (bench/peers/pytorch.ts starts it).

One long-lived process serves requests from Node, one at a time, over stdin/stdout. Every message,
either way, is one frame:

    u32 LE  header length h      u64 LE  payload length p      h bytes  header (UTF-8 JSON)      p bytes  payload

The header names the payload's tensors in order, `"tensors": [{"name": ..., "shape": [...]}]`; the
payload is their float32 little-endian values back to back (no float array is ever JSON). Replies
carry `"ok": true`, or `"ok": false` with `"error"` (what this peer refuses, or an exception's type
and message). Nothing else is written to stdout: print() goes to stderr.

Requests (`op`):
  hello           {threads, device: "cpu" | "cuda", tf32}: the process's device, for good (one process
                  per device and TF32 setting). Sets torch.set_num_threads(threads) and, on either
                  device, torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32 to
                  `tf32`; replies with the versions, the threads, the BLAS libraries loaded, both TF32
                  flags as read back from torch, and on CUDA the GPU, CUDA and cuDNN versions.
                  If `import torch` failed, or CUDA was asked for and torch.cuda.is_available() is
                  False, this is where the reply says why.
  forward.prepare {handle, module, tensors: the state dict by PyTorch name, then `x` [B, T, I]}: the
                  module and the input are moved to the device and stay there. Replies `cudnnAlgo` on
                  CUDA (see expected_cudnn_algo).
  forward.run     {handle}: the forward pass under torch.no_grad(); replies `output` [B, T, O] (float32,
                  on the host) and its times by `clock`:
                    forwardMs    the forward alone, its input already on the device (no IPC, no copies)
                    roundTripMs  CUDA only (null on the CPU): the input copied from the host into the
                                 device's resident tensor, the forward, and the output read back to the
                                 host, which is what webrnn's wall time covers
                  `clock` is "perf_counter" on the CPU; on CUDA "cuda-events", torch.cuda.Event pairs
                  recorded on the stream after a torch.cuda.synchronize() (kernel launches return
                  before the GPU is done, so a host clock around them would measure the launches).
  train.prepare   {handle, module, batch, stepsPerEpoch, loss, optimizer, tensors: state dict, `x`
                  [N, T, I], `y` [N, T, O]} with N = batch * stepsPerEpoch; module, optimizer and data
                  stay on the device. Replies `cudnnAlgo` on CUDA (forward and backward).
                  With `perSeries: {series: S, mode}`: S independent models (see PerSeriesTraining),
                  each starting from the state dict; x and y hold S groups of batch * stepsPerEpoch
                  samples, group s for model s.
  train.epoch     {handle, weights}: stepsPerEpoch Adam steps, step k on samples k*batch ... (k+1)*batch - 1
                  (zero_grad, forward, loss, backward, step, loss.item()); replies `losses` (each
                  step's loss, before its update; per-series: step k's S losses in model order),
                  `ms` (the whole loop, by `clock` as above) and, unless `weights` is false, the
                  weights after the last step, by name (per-series: the S models' stacked, [S, ...]).
  release         {handle}: forgets a prepared model (on CUDA, also hands its cached memory back).
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

    try:  # PyTorch >= 2.0; 1.13 ships the same transforms as functorch
        from torch.func import grad_and_value, vmap
    except ImportError:
        from functorch import grad_and_value, vmap

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
        a = t.detach().to("cpu", torch.float32).contiguous().numpy()
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

    def to(self, device):
        """Moves the weights to `device` (on CUDA, nn.RNN also flattens them into cuDNN's one buffer)."""
        for m in self.modules():
            m.to(device)
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


class Device:
    """Where the process computes (chosen once, by `hello`) and the clock it is timed by."""

    def __init__(self, name):
        if name not in ("cpu", "cuda"):
            raise PeerError(f"device {name!r}: this peer runs on cpu or cuda")
        if name == "cuda" and not torch.cuda.is_available():
            built = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
            raise PeerError(f"torch.cuda.is_available() is False (PyTorch {torch.__version__}, {built})")
        self.name = name
        self.cuda = name == "cuda"
        self.clock = "cuda-events" if self.cuda else "perf_counter"

    def settle(self):
        """Waits until the GPU is idle, so that nothing queued earlier is charged to what is timed next."""
        if self.cuda:
            torch.cuda.synchronize()

    def mark(self):
        """Now: a CUDA event recorded on the current stream (the GPU's own time), or perf_counter()."""
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def ms(self, start, end):
        """Milliseconds between two marks; on CUDA it first waits for the GPU to reach `end`."""
        if not self.cuda:
            return (end - start) * 1000
        end.synchronize()
        return start.elapsed_time(end)

    def release(self):
        """Hands the allocator's cached blocks back to the GPU (webrnn and the other processes share it)."""
        if self.cuda:
            torch.cuda.empty_cache()


class Forward:
    def __init__(self, header, tensors, device):
        self.device = device
        self.net = Net(header["module"], state_of(tensors, header["params"])).to(device.name).train(False)
        if "x" not in tensors:
            raise PeerError("forward.prepare needs the input x")
        self.host_x = tensors["x"]
        # Resident on the device (on the CPU this is host_x itself); a CUDA run uploads host_x into it again.
        self.x = self.host_x.to(device.name)
        self.algo = expected_cudnn_algo(header["module"], forward=True) if device.cuda else None

    def run(self):
        d = self.device
        with torch.no_grad():
            if not d.cuda:
                start = d.mark()
                out = self.net(self.x)
                end = d.mark()
                return {"clock": d.clock, "forwardMs": d.ms(start, end), "roundTripMs": None}, [("output", out)]
            d.settle()
            upload = d.mark()
            self.x.copy_(self.host_x)
            start = d.mark()
            out = self.net(self.x)
            end = d.mark()
            host = out.to("cpu")  # waits for the forward and the copy
            back = d.mark()
            return {"clock": d.clock, "forwardMs": d.ms(start, end), "roundTripMs": d.ms(upload, back)}, [("output", host)]


class Training:
    def __init__(self, header, tensors, device):
        self.device = device
        self.names = header["params"]
        self.net = Net(header["module"], state_of(tensors, self.names)).to(device.name).train()
        self.batch = header["batch"]
        self.steps = header["stepsPerEpoch"]
        # The epoch's samples stay on the device: a training loop uploads its data once, not every epoch.
        self.x = tensors["x"].to(device.name)
        self.y = tensors["y"].to(device.name)
        if self.x.shape[0] != self.batch * self.steps or self.y.shape[0] != self.x.shape[0]:
            raise PeerError(f"x and y must hold batch * stepsPerEpoch = {self.batch * self.steps} samples, got {self.x.shape[0]} and {self.y.shape[0]}")
        loss = header["loss"]
        self.first = 0 if loss["steps"] == "all" else self.x.shape[1] - loss["steps"]["last"]
        self.loss = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}[loss["kind"]]
        self.opt = optimizer_of(header["optimizer"], self.net.parameters())
        m = header["module"]
        self.algo = f"forward {expected_cudnn_algo(m, True)}, backward {expected_cudnn_algo(m, False)}" if device.cuda else None

    def epoch(self, weights=True):
        d = self.device
        losses = []
        d.settle()
        start = d.mark()
        for k in range(self.steps):
            rows = slice(k * self.batch, (k + 1) * self.batch)
            self.opt.zero_grad(set_to_none=True)
            out = self.net(self.x[rows])
            loss = self.loss(out[:, self.first:], self.y[rows, self.first:])
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        end = d.mark()
        return {"clock": d.clock, "ms": d.ms(start, end), "losses": losses}, self.net.named_weights(self.names) if weights else []


def optimizer_of(o, params):
    """torch.optim.Adam or AdamW over `params`, as the request's optimizer says."""
    if o["kind"] not in ("adam", "adamw"):
        raise PeerError(f"optimizer {o['kind']!r}: this peer runs adam and adamw")
    optim = torch.optim.Adam if o["kind"] == "adam" else torch.optim.AdamW
    return optim(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weightDecay"])


def stacked_forward(cell, nonlinearity, p, x):
    """
    One recurrent layer and its Linear head, written out with matmuls that broadcast over leading
    dimensions: x [..., b, T, I] and p's tensors [..., *shape] (nn.RNN/LSTM/GRU's layout and gate
    order: LSTM i, f, g, o; GRU r, z, n). With S stacked models the leading dimension is S and every
    matmul is one batched matmul over the models; under vmap there is none (one model's view).
    Returns [..., b, T, O] (or the hidden states without a head).
    """
    H = p["w_hh"].shape[-1]
    # Every step's input projection at once (as cuDNN does), then the recurrence step by step.
    xi = x @ p["w_ih"].transpose(-1, -2).unsqueeze(-3)
    if "b_ih" in p:
        xi = xi + p["b_ih"].unsqueeze(-2).unsqueeze(-2)
    w_hh = p["w_hh"].transpose(-1, -2)
    b_hh = p["b_hh"].unsqueeze(-2) if "b_hh" in p else None
    # A plain factory (not x.new_zeros): under vmap x's shape is one model's and the zeros unbatched.
    h = torch.zeros(x.shape[:-2] + (H,), dtype=x.dtype, device=x.device)
    c = h
    hs = []
    for t in range(x.shape[-2]):
        gh = h @ w_hh
        if b_hh is not None:
            gh = gh + b_hh
        gx = xi[..., t, :]
        if cell == "lstm":
            i, f, g, o = (gx + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        elif cell == "gru":
            rx, zx, nx = gx.chunk(3, dim=-1)
            rh, zh, nh = gh.chunk(3, dim=-1)
            r = torch.sigmoid(rx + rh)
            z = torch.sigmoid(zx + zh)
            n = torch.tanh(nx + r * nh)
            h = (1 - z) * n + z * h
        else:
            h = torch.tanh(gx + gh) if nonlinearity == "tanh" else torch.relu(gx + gh)
        hs.append(h)
    y = torch.stack(hs, dim=-2)
    if "head_w" not in p:
        return y
    y = y @ p["head_w"].transpose(-1, -2).unsqueeze(-3)
    return y + p["head_b"].unsqueeze(-2).unsqueeze(-2) if "head_b" in p else y


class PerSeriesTraining:
    """
    S independent models (one per series, each with its own weights and Adam state, all starting from
    the same state dict) trained on their own groups of samples, one of three ways:

      batched  the S models as one stacked model: every parameter a [S, ...] tensor, the forward
               written with batched matmuls (stacked_forward), the loss the sum of the S models'
               losses (so each model's gradient is its own loss's), one backward and one Adam step
               over the stacked tensors (Adam is elementwise: each model's update is its own)
      vmap     the model-ensembling recipe of torch.func: vmap(grad_and_value(one model's loss)) over
               the stacked parameters, then the same Adam step on the stacked tensors
      loop     S nn.RNN/LSTM/GRU + nn.Linear modules (cuDNN on CUDA), each with its own Adam, trained
               one after another: what one model at a time costs
    """

    MODES = ("batched", "vmap", "loop")

    def __init__(self, header, tensors, device):
        self.device = device
        self.names = header["params"]
        m = header["module"]
        ps = header["perSeries"]
        self.mode = ps["mode"]
        self.S = int(ps["series"])
        if self.mode not in self.MODES:
            raise PeerError(f"per-series mode {self.mode!r}: one of {', '.join(self.MODES)}")
        self.batch = header["batch"]
        self.steps = header["stepsPerEpoch"]
        x, y = tensors["x"], tensors["y"]
        per = self.batch * self.steps
        if x.shape[0] != self.S * per or y.shape[0] != x.shape[0]:
            raise PeerError(f"x and y must hold series * batch * stepsPerEpoch = {self.S * per} samples, got {x.shape[0]} and {y.shape[0]}")
        self.x = x.reshape(self.S, per, *x.shape[1:]).to(device.name)
        self.y = y.reshape(self.S, per, *y.shape[1:]).to(device.name)
        loss = header["loss"]
        self.first = 0 if loss["steps"] == "all" else x.shape[1] - loss["steps"]["last"]
        self.kind = loss["kind"]
        if self.kind not in ("mse", "mae"):
            raise PeerError(f"loss {self.kind!r}: this peer runs mse and mae")
        state = state_of(tensors, self.names)
        if self.mode == "loop":
            self.nets = [Net(m, state).to(device.name).train() for _ in range(self.S)]
            self.opts = [optimizer_of(header["optimizer"], n.parameters()) for n in self.nets]
            self.loss = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss}[self.kind]
            self.algo = f"forward {expected_cudnn_algo(m, True)}, backward {expected_cudnn_algo(m, False)}" if device.cuda else None
            return
        if m["numLayers"] != 1 or m["bidirectional"]:
            raise PeerError("the stacked per-series model has one unidirectional layer")
        self.cell = m["cell"]
        if self.cell not in CELLS:
            raise PeerError(f"unknown cell {self.cell!r}")
        self.nonlinearity = m.get("nonlinearity") or "tanh"
        pre = f"{m['prefix']}." if m["prefix"] else ""
        keys = {"w_ih": f"{pre}weight_ih_l0", "w_hh": f"{pre}weight_hh_l0", "b_ih": f"{pre}bias_ih_l0", "b_hh": f"{pre}bias_hh_l0"}
        if m["outputSize"] is not None:
            keys.update(head_w=f"{m['headPrefix']}.weight", head_b=f"{m['headPrefix']}.bias")
        self.keys = {k: n for k, n in keys.items() if n in state}
        unknown = [n for n in self.names if n not in self.keys.values()]
        if unknown:
            raise PeerError(f"the stacked per-series model has no parameter {unknown[0]}")
        # Every model starts from the same weights: S copies, stacked.
        self.params = {k: state[n].to(device.name).unsqueeze(0).repeat(self.S, *([1] * state[n].dim())).requires_grad_() for k, n in self.keys.items()}
        self.opt = optimizer_of(header["optimizer"], list(self.params.values()))
        self.per_model_grads = vmap(grad_and_value(self.model_loss))
        self.algo = None

    def model_loss(self, params, x, y):
        """Each model's loss (mean over its batch, steps and outputs): [...] for [..., b, T, *] inputs."""
        out = stacked_forward(self.cell, self.nonlinearity, params, x)
        d = out[..., self.first:, :] - y[..., self.first:, :]
        return (d * d if self.kind == "mse" else d.abs()).mean(dim=(-3, -2, -1))

    def epoch(self, weights=True):
        d = self.device
        losses = []
        d.settle()
        start = d.mark()
        if self.mode == "loop":
            per_model = torch.empty(self.S, self.steps)
            for s, (net, opt) in enumerate(zip(self.nets, self.opts)):
                for k in range(self.steps):
                    rows = slice(k * self.batch, (k + 1) * self.batch)
                    opt.zero_grad(set_to_none=True)
                    out = net(self.x[s, rows])
                    loss = self.loss(out[:, self.first:], self.y[s, rows, self.first:])
                    loss.backward()
                    opt.step()
                    per_model[s, k] = loss.item()
            losses = per_model.t().reshape(-1).tolist()
        else:
            for k in range(self.steps):
                rows = slice(k * self.batch, (k + 1) * self.batch)
                xb, yb = self.x[:, rows], self.y[:, rows]
                self.opt.zero_grad(set_to_none=True)
                if self.mode == "batched":
                    per = self.model_loss(self.params, xb, yb)
                    per.sum().backward()
                else:
                    grads, per = self.per_model_grads({name: p.detach() for name, p in self.params.items()}, xb, yb)
                    for name, p in self.params.items():
                        p.grad = grads[name]
                self.opt.step()
                losses.extend(per.detach().to("cpu").tolist())  # waits for the step, as loss.item() does
        end = d.mark()
        return {"clock": d.clock, "ms": d.ms(start, end), "losses": losses}, self.weights() if weights else []

    def weights(self):
        """The S models' weights by name, stacked [S, ...], in the order of the request's params."""
        if self.mode == "loop":
            per_model = [dict(net.named_weights(self.names)) for net in self.nets]
            return [(n, torch.stack([w[n] for w in per_model])) for n in self.names]
        by_name = {n: self.params[k] for k, n in self.keys.items()}
        return [(n, by_name[n]) for n in self.names]


def expected_cudnn_algo(m, forward):
    """
    The cuDNN RNN algorithm PyTorch's get_algo (aten/src/ATen/native/cudnn/RNN.cpp, PyTorch >= 1.12 with
    cuDNN >= 8.2.1) picks for float32, unpacked input on this GPU: the persistent small-hidden kernel
    when the hidden size is small enough (forward: Elman H <= 384, LSTM and GRU H <= 192; backward: 256
    and 128), else the standard per-step one. PyTorch's rule, not read back from cuDNN.
    """
    if not torch.backends.cudnn.is_available() or not torch.backends.cudnn.enabled:
        return "none: cuDNN is absent or disabled (PyTorch's own CUDA kernels)"
    elman = m["cell"] == "rnn"
    limit = (384 if elman else 192) if forward else (256 if elman else 128)
    major, minor = torch.cuda.get_device_capability()
    if major < 6:
        return f"CUDNN_RNN_ALGO_STANDARD (compute capability {major}.{minor} < 6)"
    if torch.backends.cudnn.version() < 8201:
        return "CUDNN_RNN_ALGO_STANDARD (cuDNN < 8.2.1)"
    if m["hiddenSize"] > limit:
        return f"CUDNN_RNN_ALGO_STANDARD (H > {limit})"
    return f"CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H (H <= {limit})"


def hello(header):
    """Sets the process up (threads, device, TF32) and says what it runs with; see the module comment."""
    tf32 = bool(header.get("tf32", False))
    # Set on both devices, so that a test on the CPU sees them set as asked. The legacy flags also set
    # the newer per-op precisions consistently; the RNN's own one is set too where it exists (PyTorch >= 2.9).
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    rnn_precision = getattr(torch.backends.cudnn, "rnn", None)
    if rnn_precision is not None and hasattr(rnn_precision, "fp32_precision"):
        rnn_precision.fp32_precision = "tf32" if tf32 else "ieee"
    device = Device(header.get("device", "cpu"))
    torch.set_num_threads(int(header["threads"]))
    fields = {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "blas": blas_libraries(),
        "device": device.name,
        "clock": device.clock,
        "cudnnAllowTf32": torch.backends.cudnn.allow_tf32,
        "matmulAllowTf32": torch.backends.cuda.matmul.allow_tf32,
    }
    if rnn_precision is not None and hasattr(rnn_precision, "fp32_precision"):
        fields["cudnnRnnFp32Precision"] = rnn_precision.fp32_precision
    if device.cuda:
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        fields.update(
            gpu=props.name,
            computeCapability=f"{props.major}.{props.minor}",
            multiprocessors=props.multi_processor_count,
            cuda=torch.version.cuda,
            cudnn=cudnn_version(),
            cudnnEnabled=torch.backends.cudnn.enabled,
        )
    return device, fields


def cudnn_version():
    """cuDNN's version as x.y.z (torch reports 8.9.7 as 8907 and 9.1.0 as 90100); None without cuDNN."""
    v = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if v is None:
        return None
    major, rest = (v // 10000, v % 10000) if v >= 90000 else (v // 1000, v % 1000)
    return f"{major}.{rest // 100}.{rest % 100}"


def serve():
    prepared = {}
    device = None

    def lookup(header, kind):
        p = prepared.get(header.get("handle"))
        if not isinstance(p, kind):
            raise PeerError(f"no {kind.__name__.lower()} model prepared under handle {header.get('handle')}")
        return p

    def ready():
        if device is None:
            raise PeerError("the first request must be hello (it chooses the device)")
        return device

    while True:
        frame = read_frame()
        if frame is None:
            return
        header, payload = frame
        op = header.get("op")
        try:
            tensors = tensors_of(header, payload) if IMPORT_ERROR is None else {}
            if IMPORT_ERROR is not None:
                raise PeerError(IMPORT_ERROR)
            elif op == "hello":
                if device is not None:
                    raise PeerError(f"hello again: this process already runs on {device.name}")
                device, fields = hello(header)
                reply(fields, [])
            elif op == "forward.prepare":
                prepared[header["handle"]] = f = Forward(header, tensors, ready())
                reply({"cudnnAlgo": f.algo}, [])
            elif op == "forward.run":
                reply(*lookup(header, Forward).run())
            elif op == "train.prepare":
                kind = PerSeriesTraining if header.get("perSeries") else Training
                prepared[header["handle"]] = t = kind(header, tensors, ready())
                reply({"cudnnAlgo": t.algo}, [])
            elif op == "train.epoch":
                p = prepared.get(header.get("handle"))
                if not isinstance(p, (Training, PerSeriesTraining)):
                    raise PeerError(f"no training model prepared under handle {header.get('handle')}")
                reply(*p.epoch(bool(header.get("weights", True))))
            elif op == "release":
                if prepared.pop(header.get("handle"), None) is not None:
                    ready().release()
                write_frame({"ok": True})
            else:
                raise PeerError(f"unknown op {op!r}")
        except Exception as e:  # the request fails, the process serves the next one
            write_frame({"ok": False, "error": str(e) if isinstance(e, PeerError) else f"{type(e).__name__}: {e}"})


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
