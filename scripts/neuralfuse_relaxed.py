#!/usr/bin/python3
"""NeuralFuse, relaxed access (docs/sram.md): a small convolutional, input-dependent
generator trained by gradient through a float replica of an int8 TFLite model whose
weights are read through faulty SRAM cells, then applied to a data set whose transformed
images `vosa sram fuse-eval --transformed DIR` runs through the real int8 engine.

Needs Debian's python3-torch (run with /usr/bin/python3; scripts/setup.sh installs it).
The model and the chips come from `vosa sram export` (graph, quantization parameters,
int8 constants and each chip's faulty weight bytes), so the replica reads the same
weights the engine reads and there is no second TFLite parser or fault model here.

  neuralfuse_relaxed.py train --export chips.json --data DIR --out gen.pt [--epochs E ...]
  neuralfuse_relaxed.py transform --generator gen.pt --data DIR --out NEW_DIR
  neuralfuse_relaxed.py logits --export model.json --data DIR [--chip K --ber B] --limit N
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"neuralfuse_relaxed.py: {e}: install Debian's python3-torch (scripts/setup.sh --deps) "
             f"and run with /usr/bin/python3")

QRANGE = {"INT8": (-128, 127), "UINT8": (0, 255)}


def fail(msg):
    sys.exit(f"neuralfuse_relaxed.py: {msg}")


# ---------------------------------------------------------------- data

def load_data(directory, first=0, limit=0):
    """.bin inputs (H x W x C uint8 pixels) and labels from DIR/y_labels.csv, as the engine's
    `--input-encoding pixels` reads them. Returns (N x C x H x W float pixels, labels, file names)."""
    csv = os.path.join(directory, "y_labels.csv")
    if not os.path.exists(csv):
        fail(f"{csv}: no label list (expected y_labels.csv)")
    rows = []
    with open(csv) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 3:
                fail(f"{csv}:{n}: expected 'file,num_classes,label'")
            rows.append((parts[0], int(parts[2])))
    rows = rows[first:first + limit if limit else None]
    if not rows:
        fail(f"{directory}: no inputs from #{first}")
    xs = []
    for name, _ in rows:
        b = np.fromfile(os.path.join(directory, name), dtype=np.uint8)
        if b.size != 32 * 32 * 3:
            fail(f"{os.path.join(directory, name)}: {b.size} bytes, expected 32x32x3 pixels")
        xs.append(b.reshape(32, 32, 3))
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float()
    return x, torch.tensor([r[1] for r in rows]), [r[0] for r in rows]


# ---------------------------------------------------------------- the float replica

def ste_round(x):
    return x + (torch.round(x) - x).detach()


def fake_quant(x, scale, zp, qtype):
    """Real values as the int8 tensor (scale, zero point) holds them: clamp to its range,
    round to its grid (straight-through gradient)."""
    lo, hi = QRANGE[qtype]
    x = torch.clamp(x, (lo - zp) * scale, (hi - zp) * scale)
    return ste_round(x / scale) * scale


def same_padding(size, k, stride, dilation):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def activation(x, name):
    if name == "RELU":
        return F.relu(x)
    if name == "RELU6":
        return torch.clamp(x, 0, 6)
    if name == "RELU_N1_TO_1":
        return torch.clamp(x, -1, 1)
    return x


class Replica:
    """The int8 model in float: weights dequantized (int8 x per-channel scale), each operator's
    output fake-quantized to its tensor's scale and zero point, so rounding and clamping (the
    ReLUs at the zero point, saturation) happen where the engine's happen. NCHW inside."""

    def __init__(self, export):
        self.x = export
        self.t = export["tensors"]
        self.ops = export["operators"]
        for i, op in enumerate(self.ops):
            if op["type"] not in ("CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"):
                fail(f"{export['model']}: operator {i} ({op['type']}) is not in the replica "
                     f"(CONV_2D, FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, RESHAPE, SOFTMAX)")
        self.clean_int = {i: torch.tensor(t["data"]) for i, t in enumerate(self.t) if "data" in t}
        self.clean = self.weights({})

    def weights(self, changed):
        """Dequantized filters and biases; `changed` = {tensor: [(element, value as read)]}."""
        w = {}
        for op in self.ops:
            if op["type"] not in ("CONV_2D", "FULLY_CONNECTED"):
                continue
            fi, bi = op["inputs"][1], op["inputs"][2] if len(op["inputs"]) > 2 else -1
            q = self.clean_int[fi].clone()
            for k, v in changed.get(fi, []):
                q[k] = v
            ft = self.t[fi]
            scale = torch.tensor(ft["scale"], dtype=torch.float32)
            shape = ft["shape"]
            q = q.float().reshape(shape)
            if op["type"] == "CONV_2D":  # OHWI -> OIHW, per-output-channel scale
                wf = (q * scale.reshape(-1, 1, 1, 1) if scale.numel() > 1 else q * scale).permute(0, 3, 1, 2)
            else:
                wf = q * scale.reshape(-1, 1) if scale.numel() > 1 else q * scale
            w[fi] = wf.contiguous()
            if bi >= 0:
                bt = self.t[bi]
                w[bi] = self.clean_int[bi].float() * torch.tensor(bt["scale"], dtype=torch.float32)
        return w

    def chip_weights(self, point):
        changed = {}
        for tensor, k, v in point["changed"]:
            changed.setdefault(tensor, []).append((k, v))
        return self.weights(changed)

    def input_real(self, pixels):
        """Pixels (float 0..255) to the model input's real values, as `--input-encoding pixels`
        feeds them: round to a pixel, minus 128 for an int8 input, then dequantize."""
        t = self.t[self.x["inputs"][0]]
        q = ste_round(torch.clamp(pixels, 0, 255)) - (128 if t["type"] == "INT8" else 0)
        return (q - t["zero_point"][0]) * t["scale"][0]

    def __call__(self, pixels, w=None):
        """Logits (the SOFTMAX input, dequantized) for N x C x H x W pixels."""
        w = w or self.clean
        v = {self.x["inputs"][0]: self.input_real(pixels)}
        logits = None
        for op in self.ops:
            ins, out = op["inputs"], op["outputs"][0]
            ot = self.t[out]
            kind = op["type"]
            if kind == "CONV_2D":
                x = v[ins[0]]
                k = w[ins[1]]
                sh, sw = op["stride"]
                dh, dw = op["dilation"]
                if op["padding"] == "SAME":
                    ph = same_padding(x.shape[2], k.shape[2], sh, dh)
                    pw = same_padding(x.shape[3], k.shape[3], sw, dw)
                    # Padding holds the input's zero point, i.e. real 0.
                    x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
                y = F.conv2d(x, k, w.get(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None, (sh, sw), 0, (dh, dw))
            elif kind == "FULLY_CONNECTED":
                y = F.linear(v[ins[0]], w[ins[1]], w.get(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None)
            elif kind == "ADD":
                y = v[ins[0]] + v[ins[1]]
            elif kind == "AVERAGE_POOL_2D":
                if op["padding"] != "VALID":
                    fail(f"AVERAGE_POOL_2D with {op['padding']} padding is not in the replica")
                y = F.avg_pool2d(v[ins[0]], tuple(op["filter"]), tuple(op["stride"]))
            elif kind == "RESHAPE":
                x = v[ins[0]]
                if x.dim() == 4:
                    x = x.permute(0, 2, 3, 1)  # TFLite's NHWC element order
                v[out] = x.reshape([x.shape[0]] + ot["shape"][1:])
                continue
            else:  # SOFTMAX: the prediction is its input's argmax
                logits = v[ins[0]]
                v[out] = torch.softmax(logits * op["softmax_beta"], dim=1)
                continue
            y = activation(y, op["activation"])
            v[out] = fake_quant(y, ot["scale"][0], ot["zero_point"][0], ot["type"])
        return logits if logits is not None else v[self.x["outputs"][0]]


# ---------------------------------------------------------------- the generator

class Generator(nn.Module):
    """NeuralFuse's encoder-decoder idea at ResNet-8's scale: conv 3->8, strided conv 8->16,
    transposed conv 16->8 back to full size, 1x1 conv on [decoder, encoder] to 3 channels;
    x' = clamp(x + 255 tanh(out), 0, 255), rounded to a pixel. Starts at the identity."""

    def __init__(self, width=8):
        super().__init__()
        self.e1 = nn.Conv2d(3, width, 3, padding=1)
        self.e2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.d1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
        self.out = nn.Conv2d(2 * width, 3, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, pixels):
        x = pixels / 255.0
        e1 = F.relu(self.e1(x))
        e2 = F.relu(self.e2(e1))
        d1 = F.relu(self.d1(e2))
        delta = 255.0 * torch.tanh(self.out(torch.cat([d1, e1], dim=1)))
        return ste_round(torch.clamp(pixels + delta, 0, 255))

    def ops_per_inference(self, h=32, w=32):
        """Multiply-accumulates of the convolutions, plus one operation per output element
        for each bias/activation, the input scaling, tanh, x255, add, clamp and round."""
        width = self.e1.out_channels
        macs = (h * w * width * 27 + (h // 2) * (w // 2) * 2 * width * 9 * width
                + (h // 2) * (w // 2) * 2 * width * width * 16 + h * w * 3 * 2 * width)
        elementwise = 2 * (h * w * width + (h // 2) * (w // 2) * 2 * width + h * w * width) + h * w * 3 * (1 + 1 + 5)
        return macs + elementwise, macs

    def parameters_count(self):
        return sum(p.numel() for p in self.parameters())


# ---------------------------------------------------------------- commands

def load_export(path):
    try:
        with open(path) as f:
            x = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if x.get("schema") != "vosa-sram-export":
        fail(f"{path}: not a `vosa sram export` file (schema {x.get('schema')!r})")
    return x


def chip_point(export, chip, ber, path):
    for p in export["chips"][chip]["points"]:
        if abs(p["ber"] - ber) < 1e-12:
            return p
    fail(f"{path}: chip #{chip} has no BER {ber} (exported: {[p['ber'] for p in export['chips'][chip]['points']]})")


def cmd_train(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    export = load_export(a.export)
    replica = Replica(export)
    if not export["chips"]:
        fail(f"{a.export}: no chips (export with --chips N --bers B)")
    chips = [replica.chip_weights(chip_point(export, c, a.ber, a.export)) for c in range(len(export["chips"]))]
    x, y, _ = load_data(a.data, a.first, a.limit)
    gen = Generator(a.width)
    opt = torch.optim.Adam(gen.parameters(), lr=a.lr)
    n = x.shape[0]
    wall0, cpu0 = time.time(), time.process_time()
    steps, epochs_done, log = 0, 0, []
    stop = False
    for epoch in range(a.epochs):
        order = torch.randperm(n)
        sums = {"loss": 0.0, "clean": 0, "faulty": 0, "seen": 0, "faulty_seen": 0}
        for s in range(0, n - a.batch + 1, a.batch):
            idx = order[s:s + a.batch]
            xb, yb = x[idx], y[idx]
            flip = torch.rand(xb.shape[0]) < 0.5  # horizontal flips
            xb = torch.where(flip.reshape(-1, 1, 1, 1), xb.flip(3), xb)
            xt = gen(xb)
            lc = replica(xt)
            loss = F.cross_entropy(lc, yb)
            pick = torch.randperm(len(chips))[:a.chips_per_step]
            lf = 0
            for c in pick.tolist():
                lo = replica(xt, chips[c])
                lf = lf + F.cross_entropy(lo, yb)
                sums["faulty"] += (lo.argmax(1) == yb).sum().item()
                sums["faulty_seen"] += yb.numel()
            loss = loss + a.lam * lf / len(pick)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            sums["loss"] += loss.item() * yb.numel()
            sums["clean"] += (lc.argmax(1) == yb).sum().item()
            sums["seen"] += yb.numel()
            if a.max_minutes and time.time() - wall0 > 60 * a.max_minutes:
                stop = True
                break
        line = {"epoch": epoch + 1, "steps": steps, "complete": not stop,
                "loss": sums["loss"] / max(1, sums["seen"]), "train_top1_clean": sums["clean"] / max(1, sums["seen"]),
                "train_top1_faulty": sums["faulty"] / max(1, sums["faulty_seen"]),
                "wall_s": round(time.time() - wall0, 1), "cpu_s": round(time.process_time() - cpu0, 1)}
        log.append(line)
        print(json.dumps(line), flush=True)
        if not stop:
            epochs_done += 1
        if stop:
            break
    ops, macs = gen.ops_per_inference()
    seeds = [c["seed"] for c in export["chips"]]
    meta = {"schema": "vosa-neuralfuse-generator", "version": 1,
            "trained": {"model": export["model"], "data": os.path.abspath(a.data), "first": a.first, "inputs": n,
                        "ber": a.ber, "train_seed": min(seeds), "train_chips": len(seeds),
                        "chip_seeds": seeds, "chips_per_step": a.chips_per_step, "lambda": a.lam,
                        "epochs": a.epochs, "epochs_complete": epochs_done, "steps": steps, "batch": a.batch,
                        "learning_rate": a.lr, "seed": a.seed, "threads": a.threads, "max_minutes": a.max_minutes,
                        "width": export["weight_buffer"]["width"],
                        "wall_s": round(time.time() - wall0, 1), "cpu_s": round(time.process_time() - cpu0, 1),
                        "log": log},
            "generator": {"width": a.width, "parameters": gen.parameters_count(), "macs_per_inference": macs},
            "ops_per_inference": ops}
    tmp = a.out + ".partial"
    torch.save({"meta": meta, "state": gen.state_dict()}, tmp)
    os.replace(tmp, a.out)
    print(f"{a.out}: {gen.parameters_count()} parameters, {ops} operations per inference ({macs} MACs), "
          f"{steps} steps, {meta['trained']['wall_s']} s wall, {meta['trained']['cpu_s']} s CPU")


def cmd_transform(a):
    if os.path.exists(a.out):
        fail(f"{a.out} exists; give a new directory")
    saved = torch.load(a.generator)
    meta = saved["meta"]
    gen = Generator(meta["generator"]["width"])
    gen.load_state_dict(saved["state"])
    x, y, names = load_data(a.data, a.first, a.limit)
    with torch.no_grad():
        xt = torch.cat([gen(x[i:i + 256]) for i in range(0, x.shape[0], 256)])
    pixels = xt.permute(0, 2, 3, 1).to(torch.uint8).numpy()
    tmp = a.out + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "y_labels.csv"), "w") as f:
        for i, name in enumerate(names):
            pixels[i].tofile(os.path.join(tmp, name))
            f.write(f"{name},10,{int(y[i])}\n")
    meta = dict(meta, transformed={"data": os.path.abspath(a.data), "first": a.first, "inputs": len(names),
                                   "generator": os.path.abspath(a.generator),
                                   "mean_abs_change": float((xt - x).abs().mean())})
    with open(os.path.join(tmp, "transform.json"), "w") as f:
        json.dump(meta, f, indent=2)
    os.replace(tmp, a.out)
    print(f"{a.out}: {len(names)} inputs transformed (mean |change| {meta['transformed']['mean_abs_change']:.1f} "
          f"pixel levels)")


def cmd_logits(a):
    """Replica logits and top-1 per input (for the replica-vs-engine test)."""
    export = load_export(a.export)
    replica = Replica(export)
    w = replica.chip_weights(chip_point(export, a.chip, a.ber, a.export)) if a.chip is not None else None
    x, y, names = load_data(a.data, 0, a.limit)
    with torch.no_grad():
        logits = replica(x, w)
    for i, name in enumerate(names):
        print(name, int(y[i]), int(logits[i].argmax()), " ".join(f"{v:.4f}" for v in logits[i].tolist()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a generator through the faulty float replica")
    t.add_argument("--export", required=True, help="`vosa sram export` JSON with the training chips")
    t.add_argument("--data", required=True, help="training data folder (.bin pixels, y_labels.csv)")
    t.add_argument("--first", type=int, default=0)
    t.add_argument("--limit", type=int, default=0)
    t.add_argument("--ber", type=float, required=True, help="BER of the training chips (one of the export's --bers)")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--max-minutes", type=float, default=0, help="stop after this wall time (0: no limit)")
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--chips-per-step", type=int, default=4, help="EOPM's N: faulty models per step")
    t.add_argument("--lambda", dest="lam", type=float, default=5.0, help="weight of the faulty models' loss")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--width", type=int, default=8, help="generator channels (encoder: width, 2 width)")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--out", required=True, help="generator file to write (.pt)")
    t.set_defaults(func=cmd_train)
    f = sub.add_parser("transform", help="write a data folder of transformed inputs for `vosa sram fuse-eval --transformed`")
    f.add_argument("--generator", required=True)
    f.add_argument("--data", required=True)
    f.add_argument("--first", type=int, default=0)
    f.add_argument("--limit", type=int, default=0)
    f.add_argument("--out", required=True, help="new directory")
    f.set_defaults(func=cmd_transform)
    g = sub.add_parser("logits", help="print the replica's logits per input")
    g.add_argument("--export", required=True)
    g.add_argument("--data", required=True)
    g.add_argument("--limit", type=int, default=20)
    g.add_argument("--chip", type=int, help="use this exported chip's faulty weights")
    g.add_argument("--ber", type=float, default=0.01)
    g.set_defaults(func=cmd_logits)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
