#!/usr/bin/env node
// Runs an int8 TFLite classifier with TensorFlow Lite itself (the TFLite
// interpreter compiled to WebAssembly, npm package @tensorflow/tfjs-tflite,
// installed into the build tree by `make tflite-runtime`) over a data set of
// .bin input tensors, and writes the same CSV as `vosa infer --outputs`
// (file,label,prediction,values). It is the golden model of vosa's engine
// (docs/dnn.md, "Bit-exact with TFLite").
//
//   node scripts/tflite_runner.js MODEL.tflite DATA_DIR OUT.csv [--pixels]
//        [--limit N] [--tensors TENSORS.csv] [--runtime DIR] [--info]
//
// DATA_DIR holds y_labels.csv (lines file,num_classes,label) and the .bin
// files, as `vosa infer` reads them (JPEG data sets: write the preprocessed
// tensors first with `vosa infer --save-inputs DIR`).
// --pixels   the .bin bytes are uint8 pixels, fed to an INT8 input as
//            pixel - 128 (`vosa infer --input-encoding pixels`); a UINT8
//            input always takes the bytes as they are.
// --limit N  only the first N samples of y_labels.csv.
// --tensors F  also write every operator's output tensor of each sample, in
//            the CSV of `vosa infer-dump` (file,op,tensor,name,values). The
//            runtime only exposes a model's outputs, so the model is
//            rewritten in memory with every operator output appended to the
//            subgraph's output list (FlatModel below).
// --runtime DIR  the npm prefix holding node_modules/@tensorflow/tfjs-tflite
//            (default: $VOSA_TFLITE_RUNTIME, else build/tflite-runtime).
// --info     print the runtime's package version and the kernel path of every
//            operator (TFLite's profiler: the builtin operator name, or
//            TfLiteXNNPackDelegate where XNNPACK took it) and exit.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`tflite_runner: ${message}\n`);
  process.exit(1);
}

// Just enough of a .tflite FlatBuffer to list the operators' outputs and to
// replace the subgraph's output list. Field ids are TFLite's schema's:
// Model.subgraphs = 2; SubGraph.tensors/inputs/outputs/operators = 0/1/2/3;
// Operator.outputs = 2; Tensor.name = 3.
class FlatModel {
  constructor(bytes, file) {
    this.b = Buffer.from(bytes);
    this.file = file;
    if (this.b.length < 8 || this.b.toString('latin1', 4, 8) !== 'TFL3')
      fail(`${file}: not a TFLite model (no TFL3 identifier)`);
    const subgraphs = this.vectorTables(this.u32(0), 2, 'Model.subgraphs');
    if (subgraphs.length !== 1) fail(`${file}: ${subgraphs.length} subgraphs; only one is supported`);
    this.subgraph = subgraphs[0];
  }
  u32(pos) {
    if (pos < 0 || pos + 4 > this.b.length) fail(`${this.file}: corrupt FlatBuffer (offset ${pos} outside the file)`);
    return this.b.readUInt32LE(pos);
  }
  fieldPos(table, field, what) {
    const vtable = table - this.b.readInt32LE(table);
    if (vtable < 0 || vtable + 4 > this.b.length) fail(`${this.file}: corrupt FlatBuffer (vtable of ${what})`);
    const vsize = this.b.readUInt16LE(vtable);
    const slot = 4 + 2 * field;
    const off = slot < vsize ? this.b.readUInt16LE(vtable + slot) : 0;
    if (off === 0) fail(`${this.file}: ${what} is missing`);
    return table + off;
  }
  deref(table, field, what) {
    const pos = this.fieldPos(table, field, what);
    return pos + this.u32(pos);
  }
  vectorTables(table, field, what) {
    const vec = this.deref(table, field, what);
    const n = this.u32(vec);
    const out = [];
    for (let i = 0; i < n; ++i) out.push(vec + 4 + 4 * i + this.u32(vec + 4 + 4 * i));
    return out;
  }
  intVector(table, field, what) {
    const vec = this.deref(table, field, what);
    const n = this.u32(vec);
    const out = [];
    for (let i = 0; i < n; ++i) out.push(this.b.readInt32LE(vec + 4 + 4 * i));
    return out;
  }
  tensorName(index) {
    const tensor = this.vectorTables(this.subgraph, 0, 'SubGraph.tensors')[index];
    if (tensor === undefined) fail(`${this.file}: tensor ${index} does not exist`);
    const s = this.deref(tensor, 3, `name of tensor ${index}`);
    return this.b.toString('utf8', s + 4, s + 4 + this.u32(s));
  }
  // [operator index, output tensor index] in execution order.
  operatorOutputs() {
    const ops = this.vectorTables(this.subgraph, 3, 'SubGraph.operators');
    const out = [];
    ops.forEach((op, i) => this.intVector(op, 2, `outputs of operator ${i}`).forEach((t) => out.push([i, t])));
    return out;
  }
  // The model bytes with SubGraph.outputs replaced by `tensors`: the new
  // vector is appended (4-byte aligned) and the field's forward offset
  // re-pointed at it, which TFLite's FlatBuffer verifier accepts.
  withOutputs(tensors) {
    const pad = (4 - (this.b.length % 4)) % 4;
    const vec = this.b.length + pad;
    const out = Buffer.alloc(vec + 4 + 4 * tensors.length);
    this.b.copy(out, 0);
    out.writeUInt32LE(tensors.length, vec);
    tensors.forEach((t, i) => out.writeInt32LE(t, vec + 4 + 4 * i));
    const field = this.fieldPos(this.subgraph, 2, 'SubGraph.outputs');
    out.writeUInt32LE(vec - field, field);
    return out;
  }
}

function parseArgs(argv) {
  const o = { args: [], pixels: false, info: false, limit: null, tensors: null, runtime: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--pixels') o.pixels = true;
    else if (a === '--info') o.info = true;
    else if (a === '--limit' || a === '--tensors' || a === '--runtime') {
      if (i + 1 === argv.length) fail(`${a} needs a value`);
      o[a.slice(2)] = argv[++i];
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 29).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else if (a.startsWith('--')) fail(`unknown option ${a} (--help lists them)`);
    else o.args.push(a);
  }
  if (o.limit !== null) {
    if (!/^\d+$/.test(o.limit)) fail(`--limit: expected a count, got '${o.limit}'`);
    o.limit = Number(o.limit);
  }
  return o;
}

// The TFLite WebAssembly module of the pinned package, without its browser
// loader: the Emscripten factory is given the .wasm bytes read from disk.
async function loadRuntime(prefix) {
  const pkgDir = path.join(prefix, 'node_modules', '@tensorflow', 'tfjs-tflite');
  // Newer builds keep the module in wasm/, older ones in dist/.
  const folder = ['wasm', 'dist'].find((d) => fs.existsSync(path.join(pkgDir, d, 'tflite_web_api_cc.js'))) || 'wasm';
  const js = path.join(pkgDir, folder, 'tflite_web_api_cc.js');
  const wasm = path.join(pkgDir, folder, 'tflite_web_api_cc.wasm');
  for (const p of [js, wasm])
    if (!fs.existsSync(p)) fail(`missing ${p}: install the TFLite runtime with \`make tflite-runtime\` (npm)`);
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  // The factory is a plain script that declares a global; run it in this
  // context and take the factory.
  const factory = new Function('require', '__filename', '__dirname', 'process',
                               fs.readFileSync(js, 'utf8') + '\nreturn tflite_web_api_ModuleFactory;')(
      require, js, path.dirname(js), process);
  const module = await factory({ wasmBinary: fs.readFileSync(wasm), print: () => {}, printErr: () => {} });
  return { module, version, wasm };
}

function createRunner(rt, bytes, file, profiling) {
  const ptr = rt.module._malloc(bytes.length);
  rt.module.HEAPU8.set(bytes, ptr);
  let result;
  try {
    result = rt.module.TFLiteWebModelRunner.CreateFromBufferAndOptions(
        ptr, bytes.length, { numThreads: 1, enableProfiling: profiling, maxProfilingBufferEntries: 1024 });
  } catch (e) {
    fail(`${file}: TFLite rejects the model: ${e.message || e}`);
  }
  if (!result.ok()) fail(`${file}: TFLite rejects the model: ${result.errorMessage()}`);
  return result.value();
}

// The runner's C++ vectors (embind) as arrays.
function cppVector(v) {
  const out = [];
  for (let i = 0; i < v.size(); ++i) out.push(v.get(i));
  v.delete();
  return out;
}

function readSamples(dataDir, limit) {
  const labels = path.join(dataDir, 'y_labels.csv');
  if (!fs.existsSync(labels)) fail(`missing ${labels}`);
  const rows = [];
  fs.readFileSync(labels, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.trim().split(',');
    if (f.length !== 3 || !/^-?\d+$/.test(f[2])) fail(`${labels}:${i + 1}: expected file,num_classes,label`);
    rows.push({ path: path.join(dataDir, f[0]), label: Number(f[2]) });
  });
  return limit === null ? rows : rows.slice(0, limit);
}

function writeAtomically(file, lines) {
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, lines.join(''));
  fs.renameSync(partial, file);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const root = path.resolve(__dirname, '..');
  const prefix = o.runtime || process.env.VOSA_TFLITE_RUNTIME || path.join(root, 'build', 'tflite-runtime');
  if (o.info ? o.args.length !== 1 : o.args.length !== 3)
    fail('usage: tflite_runner.js MODEL.tflite DATA_DIR OUT.csv [--pixels] [--limit N] [--tensors F] | MODEL --info');
  const [modelFile, dataDir, outFile] = o.args;
  if (!fs.existsSync(modelFile)) fail(`missing ${modelFile}`);
  const rt = await loadRuntime(prefix);
  const original = fs.readFileSync(modelFile);

  if (o.info) {
    const runner = createRunner(rt, original, modelFile, true);
    const input = cppVector(runner.GetInputs())[0];
    input.data().fill(0);
    runner.Infer();
    console.log(`@tensorflow/tfjs-tflite ${rt.version} (${path.basename(rt.wasm)}: no SIMD, 1 thread)`);
    if (typeof runner.GetProfilingResults !== 'function') {
      console.log('operators run by: (this build has no profiler)');
      return;
    }
    const kinds = {};
    for (const item of cppVector(runner.GetProfilingResults())) kinds[item.nodeType] = (kinds[item.nodeType] || 0) + 1;
    console.log(`operators run by: ${Object.entries(kinds).map(([k, n]) => `${k} x${n}`).join(', ')}`);
    return;
  }

  let dumps = [];  // [op, tensor, name] of every operator output
  let bytes = original;
  if (o.tensors) {
    try {
      const flat = new FlatModel(original, modelFile);
      dumps = flat.operatorOutputs().map(([op, t]) => [op, t, flat.tensorName(t)]);
      bytes = flat.withOutputs(dumps.map((d) => d[1]));
    } catch (e) {
      if (e instanceof RangeError) fail(`${modelFile}: corrupt or truncated FlatBuffer (${e.message})`);
      throw e;
    }
  }
  const runner = createRunner(rt, bytes, modelFile, false);
  const inputs = cppVector(runner.GetInputs());
  if (inputs.length !== 1) fail(`${modelFile}: ${inputs.length} inputs; one is supported`);
  const input = inputs[0];
  const outputs = cppVector(runner.GetOutputs());
  const finalOutput = outputs[outputs.length - 1];  // with --tensors: the last operator's output
  const samples = readSamples(dataDir, o.limit);
  const inData = input.data();
  const lines = [], tensorLines = [];
  let correct = 0;
  for (const s of samples) {
    if (!fs.existsSync(s.path)) fail(`missing ${s.path}`);
    const raw = fs.readFileSync(s.path);
    if (raw.length !== inData.length)
      fail(`${s.path}: ${raw.length} bytes, the input tensor '${input.name}' (${input.dataType} ${input.shape}) ` +
           `takes ${inData.length}`);
    if (input.dataType === 'uint8') inData.set(raw);
    else if (input.dataType === 'int8') {
      for (let i = 0; i < raw.length; ++i) inData[i] = o.pixels ? raw[i] - 128 : (raw[i] << 24) >> 24;
    } else fail(`${modelFile}: input '${input.name}' is ${input.dataType}; only int8/uint8 inputs are supported`);
    if (!runner.Infer()) fail(`${s.path}: TFLite's Invoke failed`);
    const y = Array.from(finalOutput.data());
    let pred = 0;  // lowest index on ties, as vosa infer
    for (let i = 1; i < y.length; ++i) if (y[i] > y[pred]) pred = i;
    if (pred === s.label) ++correct;
    lines.push(`${s.path},${s.label},${pred},${y.join(' ')}\n`);
    dumps.forEach(([op, t, name], k) => {
      tensorLines.push(`${s.path},${op},${t},${name.replace(/,/g, ';')},${Array.from(outputs[k].data()).join(' ')}\n`);
    });
  }
  if (o.tensors) writeAtomically(o.tensors, tensorLines);
  writeAtomically(outFile, lines);
  const pct = samples.length ? (100 * correct / samples.length).toFixed(1) : '0.0';
  console.log(`tflite_runner: TFLite (@tensorflow/tfjs-tflite ${rt.version}) top-1 ${pct} % ` +
              `(${correct}/${samples.length}), wrote ${outFile}${o.tensors ? ` and ${o.tensors}` : ''}`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
