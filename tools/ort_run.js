#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (CPU, every graph optimisation on, as
// bench/ort_bench.js runs it) on float32 inputs; used by tools/quant_eval.py
// and tools/quant_fixture.py to get ONNX Runtime's outputs of QDQ models.
//
// usage: node tools/ort_run.js SPEC.json
// SPEC: {"model": "m.onnx", "threads": 1,
//        "inputs": {"name": {"file": "x.f32", "dims": [1, 3, 64, 96]}},
//        "outdir": "DIR", "optimized": "opt.onnx" (optional: where ORT
//        saves the graph it runs, to see which nodes became integer ops)}
// Inputs and outputs are raw little-endian float32 files (the Python side
// owns the .npy handling).  Writes DIR/out<i>.f32 per output and
// DIR/outputs.json: {"name": {"file": "out<i>.f32", "dims": [...]}}.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'bench', 'node_modules', 'onnxruntime-node'));

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const feeds = {};
  for (const [name, inp] of Object.entries(spec.inputs)) {
    const buf = fs.readFileSync(inp.file);
    const ab = new ArrayBuffer(buf.length);
    new Uint8Array(ab).set(buf);
    feeds[name] = new ort.Tensor('float32', new Float32Array(ab), inp.dims);
  }
  const sess = await ort.InferenceSession.create(spec.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: spec.threads || 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(spec.optimized ? { optimizedModelFilePath: spec.optimized } : {}),
  });
  const out = await sess.run(feeds);
  const index = {};
  sess.outputNames.forEach((name, i) => {
    const t = out[name];
    if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, not float32`);
    const file = `out${i}.f32`;
    fs.writeFileSync(path.join(spec.outdir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    index[name] = { file, dims: t.dims };
  });
  fs.writeFileSync(path.join(spec.outdir, 'outputs.json'), JSON.stringify(index));
  await sess.release();
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
