'use strict'
// Scenario 9 (BENCH_ONLY=images): issue 15's image tasks on a photo-like 2725x2225 JPEG
// (benchmark/photo.js): (a) sharp's own benchmark, resize to 720x588 with Lanczos3 and encode
// at quality 80; (b) a 320-px-wide thumbnail. Contestants: offload.transformImage on its pool
// (nice 10) and sharp with its defaults on libuv's threadpool, in fresh helper processes at
// libuv's default 4 threads and at UV_THREADPOOL_SIZE = THREADS. Every output is checked (format
// and size) before timing; output bytes are shown. Not measured here yet: jimp, PNG-to-WebP, fs.readFile latency under the load, peak RSS.

const { QUICK, THREADS, ROUNDS, runThroughput, runHelper, noteHelperNoise, printTable, range, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { photoJpeg, TASKS } = require('../photo')

const INFLIGHT = 8
const DURATION_MS = QUICK ? 600 : 2500
const UV_SIZES = [...new Set([4, THREADS])]

async function task (key, input) {
  const t = TASKS[key]
  const impls = []
  const outBytes = {}
  if (!C.skipOffload) {
    const { api, pool } = C.loadOffload()
    const once = () => api.transformImage(input, { resize: { width: t.width, height: t.height, kernel: 'lanczos3' }, quality: 80, pool })
    const info = await api.imageInfo(await once())
    if (info.format !== 'jpeg' || info.width !== t.width) throw new Error(`offload made ${info.format} ${info.width}x${info.height}`)
    outBytes.offload = (await once()).length
    impls.push({ name: 'offload', inflight: INFLIGHT, submit: once })
  }
  for (const uv of UV_SIZES) {
    const cfg = { kind: 'sharp', task: key, size: input.length, inflight: INFLIGHT, durationMs: DURATION_MS }
    impls.push({ name: `sharp (uv ${uv})`, helper: true, run: () => runHelper('libuv', [JSON.stringify(cfg)], { env: { UV_THREADPOOL_SIZE: String(uv) } }) })
  }
  for (const impl of impls) if (impl.submit) await C.warm(impl.submit, INFLIGHT)
  const res = await runThroughput(impls, { bytesPerOp: input.length, durationMs: DURATION_MS, rounds: ROUNDS })
  for (const impl of impls) {
    if (!impl.helper) continue
    noteHelperNoise(res[impl.name].runs)
    outBytes[impl.name] = res[impl.name].median.outBytes
  }
  const best = Math.max(...Object.keys(res).filter((k) => k.startsWith('sharp')).map((k) => res[k].median.opsPerSec))
  printTable(`9${key}. ${t.label}, ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); offload at nice 10 on ${THREADS} threads`,
    ['impl', 'images/s', 'min–max', 'x best sharp', 'out bytes', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, s]) => [k, s.median.opsPerSec, range(s, 'opsPerSec'), (s.median.opsPerSec / best).toFixed(2) + 'x', outBytes[k] ?? '-', ...loopCpuCols(s)]))
  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const ratio = m.opsPerSec / best
    targets.throughput = { value: ratio, goal: '>= 1.0', pass: ratio >= 1 }
    targets.loopP99 = { value: m.loop.p99, goal: '<= 2', pass: m.loop.p99 <= 2 }
    console.log(`  target: (${key}) offload ${ratio.toFixed(2)}x the best sharp row's images/s -> ${target(ratio, ratio >= 1, '>= 1.0x')}`)
    console.log(`  target: (${key}) offload loop p99 ${m.loop.p99.toFixed(2)} ms -> ${target(m.loop.p99, m.loop.p99 <= 2, '<= 2 ms')}`)
  }
  return { results: res, outBytes, targets }
}

async function run () {
  const input = await photoJpeg()
  const a = await task('a', input)
  const b = await task('b', input)
  return {
    config: { inputBytes: input.length, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, threads: THREADS, nice: C.NICE, uvSizes: UV_SIZES },
    a,
    b,
    targets: { ...Object.fromEntries(Object.entries(a.targets).map(([k, v]) => [`a.${k}`, v])), ...Object.fromEntries(Object.entries(b.targets).map(([k, v]) => [`b.${k}`, v])) }
  }
}

module.exports = { name: 'images', run }
