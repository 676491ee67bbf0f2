#!/usr/bin/python3
"""Exports small PyTorch recurrent models to ONNX, with PyTorch's own outputs, in the ONNX
backend-test layout that `webrnn onnx-test` and test/onnx.test.ts read:

    test/data/onnx-torch/<name>/model.onnx
    test/data/onnx-torch/<name>/test_data_set_0/input_K.pb, output_K.pb   (TensorProto each)
    test/data/onnx-torch/<name>/weights.safetensors   the same module's state_dict (rnn.*, head.*)
    test/data/onnx-torch/<name>/module.json           batch_first, whether the head reads the last step only

so the same PyTorch outputs check both of webrnn's loaders (test/loaders-agree.test.ts).

The models are what the exporter makes of nn.LSTM / nn.GRU / nn.RNN (a stack of ONNX LSTM/GRU/RNN
nodes with Transpose, Slice, Squeeze, Concat, Shape, Gather, Expand, … around them) and of an
nn.Linear head (MatMul + Add on 3-D input, Gemm on 2-D), over several opsets (9 to 17), with and
without dynamic axes and with initial states as inputs. Seeded; rerunning rewrites the same files.

Run with Debian's interpreter (it has torch, onnx and numpy):  /usr/bin/python3 test/onnx/make_torch_exports.py
"""
import io
import json
import os
import shutil
import sys
import warnings

import onnx
import torch
from torch import nn
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
OUT_DIR = os.path.join(ROOT, 'data', 'onnx-torch')
sys.path.insert(0, os.path.join(ROOT, 'golden'))
from make_torch_models import load_safetensors, save_safetensors  # noqa: E402  (the safetensors writer)


class WithHead(nn.Module):
    """A recurrent module and a linear readout of every step (`last=False`) or of the last step."""

    def __init__(self, rnn, out_features, last=False):
        super().__init__()
        self.rnn = rnn
        directions = 2 if rnn.bidirectional else 1
        self.head = nn.Linear(rnn.hidden_size * directions, out_features)
        self.last = last

    def forward(self, x, *state):
        y, h = self.rnn(x, *state) if state else self.rnn(x)
        if self.last:
            y = y[:, -1] if self.rnn.batch_first else y[-1]
        return (self.head(y), *(h if isinstance(h, tuple) else (h,)))


def lstm_with_state():
    """LSTM with (h0, c0) given as graph inputs: forward(x, h0, c0)."""
    class M(WithHead):
        def forward(self, x, h0, c0):
            return super().forward(x, (h0, c0))
    return M(nn.LSTM(3, 4, num_layers=2, batch_first=True), 2)


# name, module factory, input shapes, input names, output names, opset, dynamic axes, and for models
# with dynamic axes the input shapes of a second data set (test_data_set_1) that exercises them.
CASES = [
    ('lstm_bidir_2layer_head', lambda: WithHead(nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True), 2),
     [(2, 4, 3)], ['x'], ['y', 'h_n', 'c_n'], 14, {'x': {0: 'batch', 1: 'time'}, 'y': {0: 'batch', 1: 'time'}},
     [(3, 7, 3)]),
    ('lstm_initial_state', lstm_with_state,
     [(3, 5, 3), (2, 3, 4), (2, 3, 4)], ['x', 'h0', 'c0'], ['y', 'h_n', 'c_n'], 13, None, None),
    ('gru_last_step_gemm', lambda: WithHead(nn.GRU(3, 4, batch_first=True), 2, last=True),
     [(2, 6, 3)], ['x'], ['y', 'h_n'], 9, None, None),
    ('gru_bidir_initial_state', lambda: WithHead(nn.GRU(2, 3, bidirectional=True), 1),
     [(5, 2, 2), (2, 2, 3)], ['x', 'h0'], ['y', 'h_n'], 17, {'x': {0: 'time', 1: 'batch'}, 'h0': {1: 'batch'}},
     [(3, 4, 2), (2, 4, 3)]),
    ('rnn_relu_2layer', lambda: WithHead(nn.RNN(2, 4, num_layers=2, nonlinearity='relu'), 3),
     [(6, 2, 2)], ['x'], ['y', 'h_n'], 11, {'x': {0: 'time', 1: 'batch'}}, [(1, 5, 2)]),
]


def write_data_set(data_dir, module, shapes, input_names, output_names):
    """Runs the module on seeded random inputs of `shapes` and writes inputs and outputs."""
    os.makedirs(data_dir)
    inputs = tuple(torch.randn(*s) for s in shapes)
    with torch.no_grad():
        outputs = module(*inputs)
    for kind, names, values in (('input', input_names, inputs), ('output', output_names, outputs)):
        for k, (n, v) in enumerate(zip(names, values)):
            with open(os.path.join(data_dir, f'{kind}_{k}.pb'), 'wb') as out:
                out.write(numpy_helper.from_array(v.numpy(), n).SerializeToString())
    return inputs


def export(name, make, shapes, input_names, output_names, opset, dynamic_axes, other_shapes):
    torch.manual_seed(0)
    module = make().eval()
    case_dir = os.path.join(OUT_DIR, name)
    if os.path.exists(case_dir):
        shutil.rmtree(case_dir)
    inputs = write_data_set(os.path.join(case_dir, 'test_data_set_0'), module, shapes, input_names, output_names)
    if other_shapes:
        write_data_set(os.path.join(case_dir, 'test_data_set_1'), module, other_shapes, input_names, output_names)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(module, inputs, f, input_names=input_names, output_names=output_names,
                          opset_version=opset, dynamic_axes=dynamic_axes)
    model = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(model)
    with open(os.path.join(case_dir, 'model.onnx'), 'wb') as out:
        out.write(f.getvalue())
    weights = {k: ('F32', v.numpy()) for k, v in module.state_dict().items()}
    save_safetensors(os.path.join(case_dir, 'weights.safetensors'), weights, {'format': 'pt'})
    back, _ = load_safetensors(os.path.join(case_dir, 'weights.safetensors'))
    assert all((back[k][1] == weights[k][1]).all() for k in weights)
    with open(os.path.join(case_dir, 'module.json'), 'w') as out:
        json.dump({'batchFirst': module.rnn.batch_first, 'lastStepOnly': module.last,
                   'nonlinearity': getattr(module.rnn, 'nonlinearity', None),
                   'inputs': input_names, 'outputs': output_names}, out)
        out.write('\n')
    ops = sorted({n.op_type for n in model.graph.node})
    print(f'{name:26s} opset {opset:2d}  {len(f.getvalue()):5d} bytes  {" ".join(ops)}')


def main():
    torch.use_deterministic_algorithms(True)
    for case in CASES:
        export(*case)
    print(f'{len(CASES)} cases in {os.path.relpath(OUT_DIR, os.getcwd())} (torch {torch.__version__}, onnx {onnx.__version__})')


if __name__ == '__main__':
    main()
