'use strict'
// Scenario 3: gzip of 1 MiB of log text — offload vs node:zlib on libuv's
// threadpool, against THREADS x offload's own single-thread rate.
// zlib.gzip gets a 1 MiB chunkSize (its default 16 KiB hands the output back in
// ~8 pieces per MiB, each a round trip to the loop) and runs in fresh helper
// processes with UV_THREADPOOL_SIZE = THREADS and at libuv's default 4 (see
// workers/libuv.js). Output sizes are shown per contestant: zlib-rs (offload)
// and Node's zlib make different trade-offs at the same level.

const zlib = require('node:zlib')
const { QUICK, THREADS, ROUNDS, runThroughput, runHelper, noteHelperNoise, printTable, range, target, yieldToLoop, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const SIZE = 1 << 20
const LEVEL = 6 // zlib's default, pinned so both sides do the same work
const CHUNK = 1 << 20
const INFLIGHT = Math.max(8, 4 * THREADS)
const DURATION_MS = QUICK ? 300 : 1500
const UV_SIZES = [...new Set([THREADS, 4])]

async function run () {
  const input = logText(SIZE)
  const zlibBytes = zlib.gzipSync(input, { level: LEVEL }).length
  const outBytes = {} // compressed size per row

  const impls = []
  if (!C.skipOffload) {
    const { api, pool } = C.loadOffload()
    const nice0 = C.offloadPool('nice0')
    const one = C.offloadPool('one')
    for (const [name, p] of [['offload', pool], ['offload (nice 0)', nice0], ['offload (1 thread)', one]]) {
      const out = Buffer.from(await api.compress('gzip', input, { pool: p, level: LEVEL }))
      // Must be real gzip that round-trips through node's zlib.
      let back
      try {
        back = zlib.gunzipSync(out)
      } catch (err) {
        throw new Error(`${name} gzip output is not valid gzip (${err.message}); first bytes ${out.subarray(0, 8).toString('hex')}`)
      }
      if (!back.equals(input)) throw new Error(`${name} gzip output does not round-trip to the input`)
      outBytes[name] = out.length
      impls.push({ name, inflight: name === 'offload (1 thread)' ? 4 : INFLIGHT, submit: () => api.compress('gzip', input, { pool: p, level: LEVEL }) })
    }
  }
  for (const uv of UV_SIZES) {
    // Round-trip and size checked inside the helper, before its timed run.
    const cfg = { kind: 'zlib', size: SIZE, level: LEVEL, chunkSize: CHUNK, inflight: INFLIGHT, durationMs: DURATION_MS }
    impls.push({ name: `zlib.gzip (uv ${uv})`, helper: true, run: () => runHelper('libuv', [JSON.stringify(cfg)], { env: { UV_THREADPOOL_SIZE: String(uv) } }) })
  }
  impls.push({
    name: 'gzipSync main',
    inflight: 1,
    submit: async () => {
      zlib.gzipSync(input, { level: LEVEL })
      await yieldToLoop()
    }
  })
  outBytes['gzipSync main'] = zlibBytes

  for (const impl of impls) if (impl.submit) await C.warm(impl.submit, INFLIGHT)
  await C.checkNices()

  const res = await runThroughput(impls, { bytesPerOp: SIZE, durationMs: DURATION_MS, rounds: ROUNDS })
  for (const impl of impls) {
    if (!impl.helper) continue
    noteHelperNoise(res[impl.name].runs)
    outBytes[impl.name] = res[impl.name].median.outBytes
  }
  const main = res['gzipSync main'].median.mbPerSec
  // Ideal: THREADS x offload's own single-thread rate, so zlib-rs being faster than
  // Node's zlib per core is not counted as parallel efficiency.
  const one = res['offload (1 thread)'] ? res['offload (1 thread)'].median.mbPerSec : main
  const idealText = res['offload (1 thread)'] ? `${THREADS} x offload (1 thread)` : `${THREADS} x main`
  const ideal = THREADS * one

  printTable(`3. gzip level ${LEVEL} of 1 MiB log text, ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); ideal = ${idealText} = ${ideal.toFixed(0)} MB/s; out = compressed bytes (ratio input/out)`,
    ['impl', 'MB/s', 'min–max', 'tasks/s', 'x main', '% ideal', 'out bytes', 'ratio', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, s]) => [k, s.median.mbPerSec, range(s, 'mbPerSec'), s.median.opsPerSec,
      (s.median.mbPerSec / main).toFixed(2) + 'x', (100 * s.median.mbPerSec / ideal).toFixed(0) + '%',
      outBytes[k] ?? '-', outBytes[k] ? (SIZE / outBytes[k]).toFixed(2) : '-', ...loopCpuCols(s)]))

  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const eff = m.mbPerSec / ideal
    targets.idealFraction = { value: eff, goal: '>= 0.9', pass: eff >= 0.9, base: 'offload (1 thread)' }
    console.log(`  target: offload ${(eff * 100).toFixed(0)}% of ${THREADS} x its own 1-thread rate -> ${target(eff, eff >= 0.9, '>= 90%')}`)
    console.log(`  offload output ${((outBytes.offload / zlibBytes - 1) * 100).toFixed(1)}% larger than node:zlib's; loop p99/max ${m.loop.p99.toFixed(2)} / ${m.loop.max.toFixed(2)} ms`)
  }
  return {
    config: { bytes: SIZE, level: LEVEL, chunkSize: CHUNK, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, threads: THREADS, nice: C.NICE, uvSizes: UV_SIZES },
    sizes: { input: SIZE, ...outBytes },
    idealMBps: ideal,
    idealBase: idealText,
    results: res,
    targets
  }
}

module.exports = { name: 'gzip', run }
