#!/usr/bin/python3
"""Runs an int8 TFLite classifier with Debian's Arm NN (CpuRef backend), an
independent engine, over a data set of raw .bin inputs and writes the same
CSV as `vosa infer --outputs` (file,label,prediction,values), to compare the
two engines output by output.

    apt-get install python3-pyarmnn libarmnn-cpuref-backend22 python3-numpy
    scripts/armnn_reference.py MODEL.tflite DATA_DIR OUT.csv [--pixels]

--pixels: the .bin bytes are uint8 pixels, fed as int8 = pixel - 128 (as
`vosa infer --input-encoding pixels`). Arm NN CpuRef does not use TFLite's
integer kernels (it dequantizes and requantizes), so it is a second opinion,
not a bit-exact golden model (docs/dnn.md).
"""
import os
import sys

try:
    import numpy as np
    import pyarmnn as ann
except ImportError as e:
    sys.exit(f"armnn_reference: {e}: apt-get install python3-pyarmnn libarmnn-cpuref-backend22 python3-numpy")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    pixels = "--pixels" in sys.argv
    if len(args) != 3:
        sys.exit(__doc__)
    model, data, out = args
    labels = os.path.join(data, "y_labels.csv")
    for path in (model, labels):
        if not os.path.exists(path):
            sys.exit(f"armnn_reference: missing {path}")
    parser = ann.ITfLiteParser()
    net = parser.CreateNetworkFromBinaryFile(model)
    in_bind = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    out_bind = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimized)
    shape = tuple(in_bind[1].GetShape()[i] for i in range(in_bind[1].GetNumDimensions()))
    rows = [line.strip().split(",") for line in open(labels) if line.strip()]
    correct = 0
    with open(out + ".partial", "w") as f:
        for name, _, label in rows:
            raw = np.fromfile(os.path.join(data, name), dtype=np.uint8)
            x = (raw.astype(np.int16) - 128).astype(np.int8) if pixels else raw.view(np.int8)
            inputs = ann.make_input_tensors([in_bind], [x.reshape(shape)])
            outputs = ann.make_output_tensors([out_bind])
            runtime.EnqueueWorkload(net_id, inputs, outputs)
            y = ann.workload_tensors_to_ndarray(outputs)[0].reshape(-1).astype(int)
            pred = int(np.argmax(y))  # lowest index on ties, as vosa infer
            correct += pred == int(label)
            f.write(f"{os.path.join(data, name)},{label},{pred},{' '.join(map(str, y))}\n")
    os.replace(out + ".partial", out)
    print(f"armnn_reference: top-1 {100.0 * correct / len(rows):.1f} % ({correct}/{len(rows)}), wrote {out}")


if __name__ == "__main__":
    main()
