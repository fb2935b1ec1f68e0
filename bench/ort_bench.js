#!/usr/bin/env node
// ONNX Runtime half of the benchmark (bench/bench.py drives it).
//
// usage: node bench/ort_bench.js 'SPEC-JSON'
// Prints one JSON object on stdout.  SPEC fields:
//   mode      "latency" (one session: creation, cold run, warm runs),
//             "rss" (one process holding every session of "sessions") or
//             "serve" (one session kept open: after its cold and warmup
//             runs it prints "ready", then for each line N on stdin runs
//             N times and prints one JSON list of their times in ms, until
//             EOF; bench/broad.py --interleave alternates it with nnlink's
//             bench/nnl_serve.py run by run)
//   model     path of the .onnx file
//   threads   intraOpNumThreads (interOpNumThreads is always 1)
//   inputs    {name: "x.npy"}            (latency)
//   refs      {output: "ref.npy"}        (latency, optional: max |diff|)
//   fixed     {dim_param: size}          (optional freeDimensionOverrides)
//   runs, warmup                          (latency)
//   sessions  [{inputs, fixed}]           (rss)
//   profile   path prefix (latency, optional): ORT's own profiler writes a
//             Chrome-trace JSON, PREFIX_<date>.json, with every node's time in
//             every run (cold and warmup runs included; the reader must drop
//             them); its overhead makes latency_ms of such a run not comparable
// Session options follow the brief: sequential execution, one inter-op
// thread, every graph optimisation on.  Timings are wall clock around the
// awaited API calls, so they include the binding's marshalling of inputs
// and outputs, which matters only for very small graphs.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const NPY_TYPES = {
  '<f4': ['float32', Float32Array, 4],
  '<f8': ['float64', Float64Array, 8],
  '<i8': ['int64', BigInt64Array, 8],
  '<i4': ['int32', Int32Array, 4],
  '|b1': ['bool', Uint8Array, 1],
  '|u1': ['uint8', Uint8Array, 1],
};

// Minimal .npy (v1-v3) reader: little-endian, C order, the dtypes above.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: bad .npy header`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran order not supported`);
  const t = NPY_TYPES[descr[1]];
  if (!t) throw new Error(`${file}: dtype ${descr[1]} not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length < off + n * t[2]) throw new Error(`${file}: truncated data`);
  // Copy into a fresh, aligned buffer: typed arrays need element alignment.
  const ab = new ArrayBuffer(n * t[2]);
  new Uint8Array(ab).set(buf.subarray(off, off + n * t[2]));
  const data = new t[1](ab);
  return t[0] === 'bool' ? new ort.Tensor('bool', data, dims) : new ort.Tensor(t[0], data, dims);
}

function sessionOptions(spec, fixed) {
  const o = {
    executionProviders: ['cpu'],
    intraOpNumThreads: spec.threads || 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (fixed && Object.keys(fixed).length) o.freeDimensionOverrides = fixed;
  if (spec.profile) {
    o.enableProfiling = true;
    o.profileFilePrefix = spec.profile;
  }
  return o;
}

function loadInputs(inputs) {
  const feeds = {};
  for (const [name, file] of Object.entries(inputs || {})) feeds[name] = readNpy(file);
  return feeds;
}

function maxRssBytes() {
  return process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB
}

function stats(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  return { min: s[0], median, mean: s.reduce((a, b) => a + b, 0) / n, max: s[n - 1] };
}

function maxAbsDiff(got, ref) {
  if (got.dims.join(',') !== ref.dims.join(',')) return Infinity;
  if (typeof got.data[0] === 'bigint') {
    for (let i = 0; i < got.data.length; i++) if (got.data[i] !== ref.data[i]) return Infinity;
    return 0;
  }
  let m = 0;
  for (let i = 0; i < got.data.length; i++) {
    const d = Math.abs(got.data[i] - ref.data[i]);
    if (!(d <= m)) m = d; // NaN propagates as the maximum
  }
  return m;
}

async function latency(spec) {
  const feeds = loadInputs(spec.inputs);
  let t0 = performance.now();
  const sess = await ort.InferenceSession.create(spec.model, sessionOptions(spec, spec.fixed));
  const sessionMs = performance.now() - t0;
  t0 = performance.now();
  let out = await sess.run(feeds);
  const coldMs = performance.now() - t0;
  for (let i = 0; i < (spec.warmup || 0); i++) out = await sess.run(feeds);
  const runs = [];
  for (let i = 0; i < (spec.runs || 1); i++) {
    t0 = performance.now();
    out = await sess.run(feeds);
    runs.push(performance.now() - t0);
  }
  if (spec.profile) sess.endProfiling();
  const diffs = {};
  for (const [name, file] of Object.entries(spec.refs || {})) {
    diffs[name] = out[name] ? maxAbsDiff(out[name], readNpy(file)) : null;
  }
  await sess.release();
  return {
    tool: 'ort',
    version: ort.env.versions.node,
    session_ms: sessionMs,
    cold_ms: coldMs,
    latency_ms: stats(runs),
    runs_ms: runs,
    peak_rss_bytes: maxRssBytes(),
    max_abs_diff: diffs,
  };
}

async function serve(spec) {
  const feeds = loadInputs(spec.inputs);
  const sess = await ort.InferenceSession.create(spec.model, sessionOptions(spec, spec.fixed));
  for (let i = 0; i < 1 + (spec.warmup || 0); i++) await sess.run(feeds);
  process.stdout.write('ready\n');
  const lines = require('readline').createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    const n = parseInt(line, 10);
    if (!(n > 0)) break;
    const runs = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await sess.run(feeds);
      runs.push(performance.now() - t0);
    }
    process.stdout.write(JSON.stringify(runs) + '\n');
  }
  await sess.release();
  return null;
}

// Peak RSS of one process that holds every session at once and has run each
// once (so the arenas are allocated), as an application serving both input
// shapes would.
async function rss(spec) {
  const baseline = maxRssBytes();
  const held = [];
  for (const s of spec.sessions) {
    const sess = await ort.InferenceSession.create(spec.model, sessionOptions(spec, s.fixed));
    held.push([sess, loadInputs(s.inputs)]);
  }
  for (const [sess, feeds] of held) await sess.run(feeds);
  const peak = maxRssBytes();
  for (const [sess] of held) await sess.release();
  return { tool: 'ort', version: ort.env.versions.node, sessions: held.length,
           baseline_rss_bytes: baseline, peak_rss_bytes: peak };
}

async function main() {
  if (process.argv.length !== 3) {
    process.stderr.write("usage: node ort_bench.js '{\"mode\": \"latency\"|\"rss\"|\"serve\", ...}'\n");
    process.exit(2);
  }
  const spec = JSON.parse(process.argv[2]);
  if (spec.mode === 'serve') {
    await serve(spec);
    return;
  }
  const r = spec.mode === 'rss' ? await rss(spec) : await latency(spec);
  // JSON has no Infinity: a shape mismatch is reported as null.
  process.stdout.write(JSON.stringify(r, (k, v) => (v === Infinity ? null : v)) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
