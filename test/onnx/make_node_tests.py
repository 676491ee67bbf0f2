#!/usr/bin/python3
"""Writes the ONNX project's own node tests for RNN, GRU and LSTM in the ONNX backend-test layout:

    test/data/onnx-node/<test_name>/model.onnx
    test/data/onnx-node/<test_name>/test_data_set_0/input_K.pb, output_K.pb   (TensorProto each)

The cases are the `export_*` functions of onnx/backend/test/case/node/{rnn,gru,lstm}.py, which the
`onnx` package runs when those modules are imported (each after `np.random.seed(0)`, so the output
is reproducible) and which record their model and data through `expect()`. This does what
`python3 -m onnx.backend.test.cmd_tools generate-data` does, for these three operators only and
without importing every other operator's cases.

Run with Debian's interpreter (it has onnx and numpy):  /usr/bin/python3 test/onnx/make_node_tests.py
"""
import importlib
import os
import shutil
import sys

import onnx
from onnx import numpy_helper
import onnx.backend.test.case.node as node_cases

OPS = ('rnn', 'gru', 'lstm')
ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
OUT_DIR = os.path.join(ROOT, 'data', 'onnx-node')


def collect():
    """Imports the three case modules; their classes' metaclass runs every export and `expect()`
    appends a TestCase to `node_cases._NodeTestCases`."""
    for op in OPS:
        importlib.import_module(f'onnx.backend.test.case.node.{op}')
    wanted = {op.upper() for op in OPS}
    cases = [c for c in node_cases._NodeTestCases
             if {n.op_type for n in c.model.graph.node} <= wanted]
    return sorted(cases, key=lambda c: c.name)


def write_case(case):
    case_dir = os.path.join(OUT_DIR, case.name)
    if os.path.exists(case_dir):
        shutil.rmtree(case_dir)
    os.makedirs(case_dir)
    with open(os.path.join(case_dir, 'model.onnx'), 'wb') as f:
        f.write(case.model.SerializeToString())
    graph = case.model.graph
    for i, (inputs, outputs) in enumerate(case.data_sets):
        data_dir = os.path.join(case_dir, f'test_data_set_{i}')
        os.makedirs(data_dir)
        for kind, values, infos in (('input', inputs, graph.input), ('output', outputs, graph.output)):
            for j, value in enumerate(values):
                assert infos[j].type.HasField('tensor_type'), f'{case.name}: {kind} {j} is not a tensor'
                with open(os.path.join(data_dir, f'{kind}_{j}.pb'), 'wb') as f:
                    f.write(numpy_helper.from_array(value, infos[j].name).SerializeToString())


def main():
    cases = collect()
    if not cases:
        sys.exit('no RNN/GRU/LSTM node test cases found in the onnx package')
    os.makedirs(OUT_DIR, exist_ok=True)
    for case in cases:
        write_case(case)
        opset = ', '.join(f'{o.domain or "ai.onnx"} {o.version}' for o in case.model.opset_import)
        print(f'{case.name:40s} opset {opset}')
    print(f'{len(cases)} cases in {os.path.relpath(OUT_DIR, os.getcwd())} (onnx {onnx.__version__})')


if __name__ == '__main__':
    main()
