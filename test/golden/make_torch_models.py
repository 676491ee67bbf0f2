#!/usr/bin/env python3
"""PyTorch recurrent modules saved as safetensors, with PyTorch's outputs: the independent source
that webrnn's PyTorch loader (src/model/recurrent.ts) and safetensors reader are tested against
(test/torch-models.test.ts, test/safetensors.test.ts).

Run with Debian's python3-torch:   /usr/bin/python3 test/golden/make_torch_models.py
Writes test/data/torch/:
  <case>.safetensors   the module's state_dict (float32, names as PyTorch gives them)
  cases.json           per case: the module as PyTorch code, the options webrnn is given, inputs
                       (x, h0, c0, lengths) and PyTorch's output, h_n, c_n
  dtypes.safetensors   one tensor per dtype (F64, F32, F16, BF16, I64, I32, a scalar, an empty
                       tensor) and dtypes.json, the values they decode to

There is no `safetensors` package here, so the format is written and read below with struct, json and
numpy, laid out as the reference (Rust) implementation does: tensors sorted by dtype alignment then
name, a compact JSON header with __metadata__ first, padded with spaces to a multiple of 8 bytes.
Every file is read back through the reader before use, and the module's outputs are computed from the
weights read back, so PyTorch runs exactly what webrnn loads. Outputs are computed in float64 from
float32-rounded weights and inputs (what webrnn stores), so the CPU reference agrees to rounding.
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "torch")

# Dtypes in the reference implementation's order of increasing alignment; the writer sorts by it.
DTYPES = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
NUMPY_OF = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16, "F16": np.float16,
    "BF16": np.uint16,  # numpy has no bfloat16: the raw bits travel as uint16
    "I32": np.int32, "U32": np.uint32, "F32": np.float32, "F64": np.float64, "I64": np.int64, "U64": np.uint64,
}


def save_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype, numpy array of NUMPY_OF[dtype])."""
    order = sorted(tensors, key=lambda n: (-DTYPES.index(tensors[n][0]), n))
    header = {}
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    blobs = []
    offset = 0
    for name in order:
        dtype, array = tensors[name]
        blob = np.ascontiguousarray(array, dtype=np.dtype(NUMPY_OF[dtype]).newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load_safetensors(path):
    """Returns ({name: (dtype, numpy array)}, metadata or None); asserts the file is well formed."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header runs past the end"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    assert metadata is None or all(isinstance(v, str) for v in metadata.values())
    body = data[8 + n:]
    at = 0
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        assert begin == at, f"{name}: gap or overlap at {at}"
        dtype = np.dtype(NUMPY_OF[info["dtype"]]).newbyteorder("<")
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - begin == count * dtype.itemsize, f"{name}: size does not match shape"
        tensors[name] = (info["dtype"], np.frombuffer(body[begin:end], dtype=dtype).reshape(info["shape"]))
        at = end
    assert at == len(body), "data not fully covered"
    return tensors, metadata


def f32_round(t):
    return t.to(torch.float32).to(torch.float64)


# name, cell, I, H, layers, bidirectional, nonlinearity, bias, batch_first, (head prefix, O, head bias),
# module prefix, B, T, h0, c0, lengths
CASES = [
    ("rnn_tanh_head", "RNN", 3, 4, 1, False, "tanh", True, True, ("head", 2, True), "rnn", 2, 5, False, False, None),
    ("rnn_relu_l2_bidir_h0", "RNN", 2, 3, 2, True, "relu", True, False, None, "rnn", 3, 4, True, False, None),
    ("rnn_tanh_l3_bidir_lengths", "RNN", 2, 3, 3, True, "tanh", True, True, ("readout", 1, True), "rnn", 3, 4, True, False, [4, 1, 3]),
    ("rnn_relu_lengths", "RNN", 3, 5, 1, False, "relu", True, True, None, "net.rnn", 3, 5, False, False, [2, 5, 3]),
    ("lstm_head", "LSTM", 3, 4, 1, False, None, True, True, ("fc", 2, True), "lstm", 2, 5, False, False, None),
    ("lstm_l2_bidir_h0c0", "LSTM", 2, 3, 2, True, None, True, False, ("linear", 3, True), "lstm", 3, 4, True, True, None),
    ("lstm_l3_nobias_lengths", "LSTM", 3, 2, 3, False, None, False, True, None, "encoder.lstm", 4, 5, True, True, [5, 2, 4, 1]),
    ("gru_bare_nobias", "GRU", 2, 3, 1, False, None, False, True, None, "", 2, 6, False, False, None),
    ("gru_l2_bidir_lengths_h0", "GRU", 3, 4, 2, True, None, True, False, ("head", 2, False), "gru", 3, 5, True, False, [3, 5, 2]),
    ("gru_head", "GRU", 1, 5, 1, False, None, True, True, ("fc", 1, True), "gru", 2, 3, False, False, None),
]


def module_code(cell, I, H, L, bidir, act, bias, batch_first):
    """The module as constructor code, non-default arguments only; webrnn's description must match."""
    args = [f"input_size={I}", f"hidden_size={H}"]
    if L != 1:
        args.append(f"num_layers={L}")
    if cell == "RNN" and act != "tanh":
        args.append(f"nonlinearity='{act}'")
    if not bias:
        args.append("bias=False")
    if batch_first:
        args.append("batch_first=True")
    if bidir:
        args.append("bidirectional=True")
    return f"nn.{cell}({', '.join(args)})"


def flat(t):
    return None if t is None else t.flatten().tolist()


def make_case(i, case):
    name, cell, I, H, L, bidir, act, bias, batch_first, head, prefix, B, T, with_h0, with_c0, lengths = case
    torch.manual_seed(2000 + i)
    D = 2 if bidir else 1
    rnn_code = module_code(cell, I, H, L, bidir, act, bias, batch_first)
    rnn = eval(rnn_code, {"nn": nn})  # the description is real PyTorch code
    head_code = None
    linear = None
    if head is not None:
        head_prefix, O, head_bias = head
        head_code = f"nn.Linear({D * H}, {O}{'' if head_bias else ', bias=False'})"
        linear = eval(head_code, {"nn": nn})
    with torch.no_grad():
        params = list(rnn.parameters()) + (list(linear.parameters()) if linear else [])
        for p in params:
            p.copy_(p * 1.5)  # wider than the default init, so the nonlinearities matter

    # The state dict as one model would hold it: module under its prefix, head under its own.
    sd = {}
    for k, v in rnn.state_dict().items():
        sd[f"{prefix}.{k}" if prefix else k] = ("F32", v.numpy().astype(np.float32))
    if linear is not None:
        for k, v in linear.state_dict().items():
            sd[f"{head[0]}.{k}"] = ("F32", v.numpy().astype(np.float32))
    path = os.path.join(OUT, f"{name}.safetensors")
    save_safetensors(path, sd, {"format": "pt"})
    back, metadata = load_safetensors(path)
    assert metadata == {"format": "pt"} and back.keys() == sd.keys()
    for k in sd:
        assert back[k][0] == "F32" and np.array_equal(back[k][1], sd[k][1]), k

    # PyTorch in float64 on the weights read back from the file.
    rnn = rnn.double()
    own = {k[len(prefix) + 1:] if prefix else k: torch.from_numpy(a.astype(np.float64)) for k, (_, a) in back.items()
           if linear is None or not k.startswith(head[0] + ".")}
    rnn.load_state_dict(own)
    if linear is not None:
        linear = linear.double()
        linear.load_state_dict({k[len(head[0]) + 1:]: torch.from_numpy(a.astype(np.float64))
                                for k, (_, a) in back.items() if k.startswith(head[0] + ".")})

    x_shape = (B, T, I) if batch_first else (T, B, I)
    x = f32_round(torch.randn(*x_shape, dtype=torch.float64))
    h0 = f32_round(torch.randn(L * D, B, H, dtype=torch.float64) * 0.5) if with_h0 else None
    c0 = f32_round(torch.randn(L * D, B, H, dtype=torch.float64) * 0.5) if with_c0 else None
    state = None
    if cell == "LSTM" and (h0 is not None or c0 is not None):
        zeros = torch.zeros(L * D, B, H, dtype=torch.float64)
        state = (h0 if h0 is not None else zeros, c0 if c0 is not None else zeros)
    elif h0 is not None:
        state = h0
    with torch.no_grad():
        if lengths is None:
            out, hidden = rnn(x, state)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
            out, hidden = rnn(packed, state)
            out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        y = linear(out) if linear is not None else out
    hn, cn = hidden if cell == "LSTM" else (hidden, None)

    options = {"cell": cell.lower(), "inputSize": I, "hiddenSize": H, "numLayers": L, "bidirectional": bidir,
               "bias": bias, "batchFirst": batch_first}
    infer = {"batchFirst": batch_first}
    if cell == "RNN":
        options["nonlinearity"] = infer["nonlinearity"] = act
    if head is not None:
        options["outputSize"] = head[1]
        options["headBias"] = head[2]
    return {
        "name": name,
        "file": f"{name}.safetensors",
        "description": rnn_code + (f" + {head_code}" if head_code else ""),
        "options": options,
        "inferOptions": infer,
        "prefix": prefix,
        "headPrefix": head[0] if head else None,
        "stateDictOrder": list(sd.keys()),
        "batch": B,
        "steps": T,
        "x": flat(x),
        "h0": flat(h0),
        "c0": flat(c0),
        "lengths": lengths,
        "output": flat(y),
        "outputShape": list(y.shape),
        "hn": flat(hn),
        "cn": flat(cn),
    }


def make_dtypes():
    """One tensor per dtype with values whose decoding is known exactly."""
    f16 = np.array([1.0, -2.0, 0.5, 65504.0, 2.0 ** -24, -0.0, 1.0 / 3.0], dtype=np.float16)
    bf16 = torch.tensor([1.0, -2.0, 3.14159, 1.0e38, 2.0 ** -133, -0.0], dtype=torch.bfloat16)
    tensors = {
        "f64": ("F64", np.array([[1.0 / 3.0, -1e300], [5e-324, 0.0]], dtype=np.float64)),
        "f32": ("F32", np.array([0.1, -7.5, 3.4028234663852886e38], dtype=np.float32)),
        "f16": ("F16", f16),
        "bf16": ("BF16", bf16.view(torch.int16).numpy().view(np.uint16)),
        "i64": ("I64", np.array([-3, 0, 2 ** 53 - 1, -(2 ** 40)], dtype=np.int64)),
        "i32": ("I32", np.array([[-7], [2147483647], [-2147483648]], dtype=np.int32)),
        "scalar": ("F32", np.array(2.5, dtype=np.float32)),
        "empty": ("F32", np.zeros((2, 0), dtype=np.float32)),
    }
    path = os.path.join(OUT, "dtypes.safetensors")
    save_safetensors(path, tensors, {"source": "make_torch_models.py", "note": "one tensor per dtype"})
    back, metadata = load_safetensors(path)
    assert back.keys() == tensors.keys() and metadata["note"] == "one tensor per dtype"
    expected = {
        "f64": tensors["f64"][1].flatten().tolist(),
        "f32": tensors["f32"][1].astype(np.float64).tolist(),
        "f16": f16.astype(np.float64).tolist(),
        "bf16": bf16.to(torch.float64).tolist(),
        "i64": tensors["i64"][1].tolist(),
        "i32": tensors["i32"][1].flatten().tolist(),
        "scalar": [2.5],
        "empty": [],
    }
    shapes = {k: list(a.shape) for k, (_, a) in tensors.items()}
    dtypes = {k: d for k, (d, _) in tensors.items()}
    return {"metadata": metadata, "dtypes": dtypes, "shapes": shapes, "values": expected}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [make_case(i, c) for i, c in enumerate(CASES)]
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({
            "source": f"torch {torch.__version__}, float64, weights and inputs rounded to float32",
            "script": "test/golden/make_torch_models.py",
            "cases": cases,
        }, f)
        f.write("\n")
    with open(os.path.join(OUT, "dtypes.json"), "w") as f:
        json.dump(make_dtypes(), f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} modules and dtypes.safetensors to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
