'use strict'
// Scenario 9 (BENCH_ONLY=images): issue 15's image tasks (inputs and tasks in benchmark/photo.js):
// (a) sharp's own benchmark, a 2725x2225 JPEG resized to 720x588 with Lanczos3, JPEG quality 80;
// (b) a 320-px-wide thumbnail of the same JPEG; (c) a 1024x768 RGBA PNG (a cut-out with a
// feathered alpha edge) resized to 512 px wide and encoded as lossy WebP at quality 80, alpha
// kept: the usual conversion of a PNG cut-out for a page.
// Contestants (scenarios/images-contestants.js): offload.transformImage on its own pool of
// THREADS threads at nice 10; sharp with its defaults at libuv's default 4 threads and at
// UV_THREADPOOL_SIZE = THREADS; jimp in pure JS on the event loop (one in flight, one bounded
// run per task: it does about one image per second; no WebP encoder, so not in (c)).
// Every row is a fresh helper process (workers/images.js), offload's too, so each has its own
// libuv pool and a peak RSS nothing else touched. In it, fs.promises.readFile(4 KiB) is issued
// every PROBE_EVERY_MS during the load: the latency any other I/O in that process would see;
// the 'idle (no load)' row, measured once for all tasks, is the same probe with nothing running.
// Quality: every contestant's output is made once at setup, checked (format, size, alpha) and
// scored as PSNR against sharp's raw high-quality resize (scenarios/images-quality.js).
// Targets (informational): offload >= 1.0x the best sharp row's images/s on (a) and (b);
// offload's loop p99 and readFile p99 <= 2 ms; offload's quality per byte at least sharp's
// (PSNR no lower than sharp's at the same byte count, on sharp's own quality curve).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, statsOf, runHelper, noteHelperNoise, printTable, range, target, fmt, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')
const { INPUTS, TASKS } = require('../photo')
const { unsupported, transformer } = require('./images-contestants')
const { reference, score, sharpCurve, sharpAt } = require('./images-quality')

const INFLIGHT = 8
const DURATION_MS = QUICK ? 500 : 2500
// jimp's one run per task: images still in flight at the deadline finish and count, so even
// the smoke run measures at least one whole image.
const JIMP_DURATION_MS = QUICK ? 500 : 3000
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const UV_SIZES = [...new Set([4, THREADS])]
const GOAL_MS = 2
// Warm-up images per helper, all at once, after one checked image: enough to start every
// thread of libuv's pool (at most max(4, THREADS) here) or of offload's. jimp's checked image
// is its warm-up.
const WARM = Math.max(4, THREADS)
const IDLE = 'idle (no load)'

// Rows in the rounds: [name, contestant, UV_THREADPOOL_SIZE, extra helper config]. offload's pool
// is its own, so its process keeps libuv's default; its second row runs the pool under
// SCHED_IDLE (Pool option `idlePriority`), the setting for a server whose loop and fs must win.
const IDLE_ROW = 'offload (idlePriority)'
function rowsFor () {
  const rows = C.skipOffload ? [] : [['offload', 'offload', 4], [IDLE_ROW, 'offload', 4, { idlePriority: true }]]
  for (const uv of UV_SIZES) rows.push([`sharp (uv ${uv})`, 'sharp', uv])
  return rows
}

// One helper run (workers/images.js): `kind` on task `key`, or 'idle'.
function helper (files, kind, key, uv, extra) {
  const input = key ? files[TASKS[key].input] : null
  return runHelper('images', [JSON.stringify({
    kind, task: key, input, probeFile: files.probe, inflight: INFLIGHT, durationMs: DURATION_MS,
    probeEveryMs: PROBE_EVERY_MS, warm: WARM, threads: THREADS, nice: C.NICE, ...extra
  })], { env: { UV_THREADPOOL_SIZE: String(uv) } })
}

async function task (key, files, idle) {
  const t = TASKS[key]
  const input = await INPUTS[t.input]()
  const rows = rowsFor()
  const jimpOut = unsupported('jimp', key)
  const kinds = [...new Set(rows.map((r) => r[1])), ...(jimpOut ? [] : ['jimp'])]

  // Untimed: one output per contestant, checked and scored against the reference.
  const ref = await reference(key, input)
  const quality = {}
  for (const kind of kinds) {
    const pool = kind === 'offload' ? C.loadOffload().pool : undefined
    quality[kind] = await score(key, await transformer(kind, key, input, { pool })(), ref, kind)
  }
  const curve = await sharpCurve(key, input, ref)

  const runs = await rounds(rows.map(([name, kind, uv, extra]) => ({ name, run: () => helper(files, kind, key, uv, extra) })), ROUNDS)
  const kindOf = Object.fromEntries(rows.map(([name, kind]) => [name, kind]))
  if (!jimpOut) {
    runs.jimp = [await helper(files, 'jimp', key, 4, { inflight: 1, durationMs: JIMP_DURATION_MS, warm: 0 })]
    kindOf.jimp = 'jimp'
  }
  for (const v of Object.values(runs)) noteHelperNoise(v)
  const res = statsOf(runs)
  const outBytes = Object.fromEntries(Object.keys(res).map((k) => [k, quality[kindOf[k]].bytes]))
  // Same call, same input: a helper's output differing from setup's would mean its figures are
  // for some other work.
  for (const [k, v] of Object.entries(runs)) {
    if (v.some((r) => r.outBytes !== outBytes[k])) console.log(`  WARNING: ${k} made ${v.map((r) => r.outBytes).join('/')} bytes in its helper, ${outBytes[k]} at setup`)
  }

  const sharps = Object.keys(res).filter((k) => kindOf[k] === 'sharp')
  const best = Math.max(...sharps.map((k) => res[k].median.opsPerSec))
  printTable(`9${key}. ${t.label}: ${INFLIGHT} in flight (jimp 1), ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside; jimp one ${JIMP_DURATION_MS} ms run); ` +
    `every row a fresh process; fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms during the load (ms); dB = PSNR vs sharp's raw Lanczos3 resize; offload at nice ${C.NICE} on ${THREADS} threads`,
  ['impl', 'images/s', 'min–max', 'x best sharp', 'out bytes', 'dB vs ref', 'fs p50', 'fs p99', 'fs p99 min–max', 'peak RSS MiB', ...LOOP_CPU_HEADER],
  Object.entries({ [IDLE]: idle, ...res }).map(([k, s]) => {
    const m = s.median
    const q = quality[kindOf[k]]
    const load = k === IDLE ? ['-', '-', '-', '-', '-'] : [m.opsPerSec, range(s, 'opsPerSec'), (m.opsPerSec / best).toFixed(2) + 'x', q.bytes, q.psnr.toFixed(2)]
    return [k, ...load, m.fs.p50.toFixed(2), m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), m.peakRssMiB, ...loopCpuCols(s)]
  }))
  if (jimpOut) console.log(`  jimp: not run, ${jimpOut}`)
  // A probe's timer cannot fire while the loop is held (jimp), so few probes ran: say so.
  for (const [k, s] of Object.entries(res)) {
    if (s.median.fs.probes < 10) console.log(`  ${k}: ${s.median.fs.probes} readFile probe(s) per run: their timer could not fire while the loop was held; the longest waited ${s.median.fs.max.toFixed(0)} ms`)
  }
  const scopes = new Set([...idle.runs, ...Object.values(runs).flat()].map((r) => r.peakRssScope))
  if (scopes.has('process')) console.log('  peak RSS: the helper process\'s lifetime peak (the kernel\'s peak mark could not be reset after warm-up)')

  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const say = (name, value, ok, goal, text) => {
      targets[name] = { value, goal, pass: ok }
      console.log(`  target: (${key}) ${text} -> ${target(value, ok, goal)}`)
    }
    if (key !== 'c') {
      const ratio = m.opsPerSec / best
      say('throughput', ratio, ratio >= 1, '>= 1.0x', `offload ${ratio.toFixed(2)}x the best sharp row's images/s`)
    }
    say('loopP99', m.loop.p99, m.loop.p99 <= GOAL_MS, `<= ${GOAL_MS} ms`, `offload loop p99 ${m.loop.p99.toFixed(2)} ms`)
    say('readFileP99', m.fs.p99, m.fs.p99 <= GOAL_MS, `<= ${GOAL_MS} ms`, `readFile p99 under offload's load ${m.fs.p99.toFixed(2)} ms`)
    if (res[IDLE_ROW]) {
      const p99 = res[IDLE_ROW].median.fs.p99
      say('readFileP99IdlePriority', p99, p99 <= GOAL_MS, `<= ${GOAL_MS} ms`, `readFile p99 under offload's load with idlePriority ${p99.toFixed(2)} ms`)
    }
    // Against sharp's curve at offload's own size; outside the curve, dominance at quality 80.
    const [o, sh] = [quality.offload, quality.sharp]
    const at = sharpAt(curve, o.bytes)
    const ok = at ? o.psnr >= at.psnr : o.psnr >= sh.psnr && o.bytes <= sh.bytes
    const vs = at ? `sharp at the same size ${at.psnr.toFixed(2)} dB (between its q${at.between.join(' and q')})` : `sharp ${sh.psnr.toFixed(2)} dB in ${fmt(sh.bytes)} B`
    say('qualityPerByte', { psnr: o.psnr, bytes: o.bytes, sharpPsnrAtBytes: at ? at.psnr : null, sharpPsnr: sh.psnr, sharpBytes: sh.bytes }, ok,
      at ? 'PSNR >= sharp\'s at the same bytes' : 'PSNR >= sharp\'s in <= its bytes', `offload ${o.psnr.toFixed(2)} dB in ${fmt(o.bytes)} B, ${vs}`)
  }
  return { results: res, outBytes, quality, sharpCurve: curve, skipped: jimpOut ? { jimp: jimpOut } : {}, targets }
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-images-'))
  try {
    // The helpers read the inputs from files rather than making them again: same bytes, and no
    // pixel generation in the processes whose peak RSS is measured.
    const files = { probe: path.join(dir, 'probe.txt') }
    fs.writeFileSync(files.probe, logText(PROBE_BYTES, 7))
    for (const [name, make] of Object.entries(INPUTS)) {
      files[name] = path.join(dir, `photo.${name}`)
      fs.writeFileSync(files[name], await make())
    }
    // The probe with no load, once for all tasks: what readFile costs in such a process anyway.
    const idleRuns = (await rounds([{ name: IDLE, run: () => helper(files, 'idle', null, 4) }], ROUNDS))[IDLE]
    noteHelperNoise(idleRuns)
    const idle = stats(idleRuns)
    const out = {}
    for (const key of Object.keys(TASKS)) out[key] = await task(key, files, idle)
    return {
      config: {
        inputBytes: Object.fromEntries(Object.keys(INPUTS).map((k) => [k, fs.statSync(files[k]).size])),
        inflight: INFLIGHT,
        durationMs: DURATION_MS,
        warm: WARM,
        jimp: { inflight: 1, durationMs: JIMP_DURATION_MS, runs: 1, warm: 0 },
        probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES },
        rounds: ROUNDS,
        threads: THREADS,
        nice: C.NICE,
        uvSizes: UV_SIZES,
        tasks: TASKS
      },
      idle,
      ...out,
      targets: Object.fromEntries(Object.entries(out).flatMap(([key, r]) => Object.entries(r.targets).map(([k, v]) => [`${key}.${k}`, v])))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'images', run }
