#!/usr/bin/python3
"""Runs an int8 TFLite classifier with Debian's Arm NN (CpuRef backend), an
independent engine, over a data set of raw .bin inputs and writes the same
CSV as `vosa infer --outputs` (file,label,prediction,values), to compare the
two engines output by output.

    apt-get install python3-pyarmnn libarmnn-cpuref-backend22 python3-numpy
    scripts/armnn_reference.py MODEL.tflite DATA_DIR OUT.csv [--pixels]
        [--limit N] [--tensors TENSORS.csv]

--pixels: the .bin bytes are uint8 pixels, fed to an INT8 input as
pixel - 128 (as `vosa infer --input-encoding pixels`); a UINT8 input always
takes the bytes as they are.
--limit N: only the first N samples of y_labels.csv.
--tensors F: also write every operator's output tensor for each sample, in
the CSV format of `vosa infer-dump` (file,op,tensor,name,values), so
scripts/compare_tensors.py can compare the two engines layer by layer. Arm NN
only exposes a network's outputs, so the model is rewritten (in memory) with
every operator output added to the subgraph's output list.

Arm NN CpuRef does not use TFLite's integer kernels (it dequantizes and
requantizes), so it is a second opinion, not a bit-exact golden model
(docs/dnn.md).
"""
import os
import struct
import sys
import tempfile

try:
    import numpy as np
    import pyarmnn as ann
except ImportError as e:
    sys.exit(f"armnn_reference: {e}: apt-get install python3-pyarmnn libarmnn-cpuref-backend22 python3-numpy "
             "(and run it with /usr/bin/python3, Debian's Python)")


class FlatModel:
    """Just enough of a .tflite FlatBuffer to list the operators and to add
    subgraph outputs (field ids from TFLite's schema: Model.subgraphs = 2,
    SubGraph.tensors/inputs/outputs/operators = 0/1/2/3, Operator.outputs = 2,
    Tensor.name = 3)."""

    def __init__(self, data, path):
        self.data = bytearray(data)
        self.path = path
        if len(data) < 8 or data[4:8] != b"TFL3":
            sys.exit(f"armnn_reference: {path}: not a TFLite model (no TFL3 identifier)")
        self.subgraph = self.vector_tables(self.root(), 2, "Model.subgraphs")[0]

    def u32(self, pos):
        if pos < 0 or pos + 4 > len(self.data):
            sys.exit(f"armnn_reference: {self.path}: corrupt FlatBuffer (offset {pos} outside the file)")
        return struct.unpack_from("<I", self.data, pos)[0]

    def root(self):
        return self.u32(0)

    def field_pos(self, table, field, what):
        vtable = table - struct.unpack_from("<i", self.data, table)[0]
        vsize = struct.unpack_from("<H", self.data, vtable)[0]
        slot = 4 + 2 * field
        off = struct.unpack_from("<H", self.data, vtable + slot)[0] if slot < vsize else 0
        if off == 0:
            sys.exit(f"armnn_reference: {self.path}: {what} is missing")
        return table + off

    def deref(self, table, field, what):
        pos = self.field_pos(table, field, what)
        return pos + self.u32(pos)

    def vector_tables(self, table, field, what):
        vec = self.deref(table, field, what)
        return [vec + 4 + 4 * i + self.u32(vec + 4 + 4 * i) for i in range(self.u32(vec))]

    def int_vector(self, table, field, what):
        vec = self.deref(table, field, what)
        return list(struct.unpack_from(f"<{self.u32(vec)}i", self.data, vec + 4))

    def tensor_name(self, index):
        tensor = self.vector_tables(self.subgraph, 0, "SubGraph.tensors")[index]
        s = self.deref(tensor, 3, f"name of tensor {index}")
        return bytes(self.data[s + 4:s + 4 + self.u32(s)]).decode()

    def operator_outputs(self):
        """(operator index, output tensor index) in execution order."""
        ops = self.vector_tables(self.subgraph, 3, "SubGraph.operators")
        return [(i, t) for i, op in enumerate(ops) for t in self.int_vector(op, 2, f"outputs of operator {i}")]

    def with_outputs(self, tensors):
        """The model bytes with SubGraph.outputs replaced by `tensors`: the new
        vector is appended (4-byte aligned) and the field's forward offset
        re-pointed at it, which the FlatBuffer verifier accepts."""
        out = bytearray(self.data)
        out += b"\0" * (-len(out) % 4)
        vec = len(out)
        out += struct.pack(f"<I{len(tensors)}i", len(tensors), *tensors)
        field = self.field_pos(self.subgraph, 2, "SubGraph.outputs")
        struct.pack_into("<I", out, field, vec - field)
        return bytes(out)


def main():
    argv = sys.argv[1:]
    opts = {"--limit": None, "--tensors": None}
    args, pixels = [], False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--pixels":
            pixels = True
        elif a in opts:
            if i + 1 == len(argv):
                sys.exit(f"armnn_reference: {a} needs a value")
            opts[a] = argv[i + 1]
            i += 1
        elif a.startswith("--"):
            sys.exit(f"armnn_reference: unknown option {a}\n{__doc__}")
        else:
            args.append(a)
        i += 1
    if len(args) != 3:
        sys.exit(__doc__)
    model, data, out = args
    try:
        limit = int(opts["--limit"]) if opts["--limit"] is not None else None
    except ValueError:
        sys.exit(f"armnn_reference: --limit: expected a count, got '{opts['--limit']}'")
    labels = os.path.join(data, "y_labels.csv")
    for path in (model, labels):
        if not os.path.exists(path):
            sys.exit(f"armnn_reference: missing {path}")

    parser = ann.ITfLiteParser()
    dumps = []  # (op, tensor, name) of every operator output, when --tensors
    if opts["--tensors"]:
        flat = FlatModel(open(model, "rb").read(), model)
        dumps = [(op, t, flat.tensor_name(t)) for op, t in flat.operator_outputs()]
        with tempfile.NamedTemporaryFile(suffix=".tflite") as tmp:
            tmp.write(flat.with_outputs([t for _, t, _ in dumps]))
            tmp.flush()
            net = parser.CreateNetworkFromBinaryFile(tmp.name)
    else:
        net = parser.CreateNetworkFromBinaryFile(model)
    in_bind = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    # With --tensors the model's own output is the last operator's output.
    out_names = [name for _, _, name in dumps] or parser.GetSubgraphOutputTensorNames(0)
    out_binds = [parser.GetNetworkOutputBindingInfo(0, name) for name in out_names]
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimized)
    shape = tuple(in_bind[1].GetShape()[i] for i in range(in_bind[1].GetNumDimensions()))
    uint8_input = in_bind[1].GetDataType() == ann.DataType_QAsymmU8
    rows = [line.strip().split(",") for line in open(labels) if line.strip()]
    if limit is not None:
        rows = rows[:limit]
    correct = 0
    tensors_out = opts["--tensors"]
    tf = open(tensors_out + ".partial", "w") if tensors_out else None
    with open(out + ".partial", "w") as f:
        for name, _, label in rows:
            path = os.path.join(data, name)
            raw = np.fromfile(path, dtype=np.uint8)
            if uint8_input:  # a UINT8 model input takes the bytes (pixels) as they are
                x = raw
            else:
                x = (raw.astype(np.int16) - 128).astype(np.int8) if pixels else raw.view(np.int8)
            inputs = ann.make_input_tensors([in_bind], [x.reshape(shape)])
            outputs = ann.make_output_tensors(out_binds)
            runtime.EnqueueWorkload(net_id, inputs, outputs)
            values = [v.reshape(-1).astype(int) for v in ann.workload_tensors_to_ndarray(outputs)]
            y = values[-1]
            pred = int(np.argmax(y))  # lowest index on ties, as vosa infer
            correct += pred == int(label)
            f.write(f"{path},{label},{pred},{' '.join(map(str, y))}\n")
            if tf:
                for (op, t, tname), v in zip(dumps, values):
                    tf.write(f"{path},{op},{t},{tname.replace(',', ';')},{' '.join(map(str, v))}\n")
    if tf:
        tf.close()
        os.replace(tensors_out + ".partial", tensors_out)
    os.replace(out + ".partial", out)
    print(f"armnn_reference: top-1 {100.0 * correct / len(rows):.1f} % ({correct}/{len(rows)}), wrote {out}"
          + (f" and {tensors_out}" if tensors_out else ""))


if __name__ == "__main__":
    main()
