'use strict'
// Scenario 6: buffering 256 MiB of a child's stdout — time and peak RSS.
// execFile and execa gather chunks and concatenate at the end (~2x the output
// at the peak); offload should need little more than the output itself.
// Every run is a fresh helper process (workers/capture.js) so each peak RSS is
// one contestant's alone; rounds alternate contestants.

const { execFileSync } = require('node:child_process')
const { QUICK, rounds, summarize, printTable, target, runHelper, noteHelperNoise, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const MiB = 2 ** 20
const BYTES = (QUICK ? 64 : 256) * MiB
const ROUNDS = QUICK ? 1 : 3

async function run () {
  const headPath = execFileSync('which', ['head'], { encoding: 'utf8' }).trim()
  const names = [...(C.skipOffload ? [] : ['offload']), 'execFile', 'execa']
  const runs = await rounds(names.map((name) => ({ name, run: () => runHelper('capture', [name, headPath, String(BYTES)]) })), ROUNDS)
  for (const v of Object.values(runs)) noteHelperNoise(v)
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summarize(v)]))
  const base = med.execFile.elapsedMs

  printTable(`6. capture ${BYTES / MiB} MiB of stdout (${headPath} -c ${BYTES} /dev/zero), fresh process per run, median of ${ROUNDS}; peak = VmHWM - VmRSS before`,
    ['impl', 'ms', 'MB/s', 'vs execFile', 'peak MiB', 'peak / output', ...LOOP_CPU_HEADER],
    Object.entries(med).map(([k, m]) => [k, m.elapsedMs, BYTES / 1e6 / (m.elapsedMs / 1000), (m.elapsedMs / base).toFixed(2) + 'x',
      m.peakAboveBaseline / MiB, (m.peakAboveBaseline / BYTES).toFixed(2) + 'x', ...loopCpuCols(m)]))

  const targets = {}
  if (med.offload) {
    const m = med.offload
    const t = m.elapsedMs / base
    const p = m.peakAboveBaseline / BYTES
    targets.timeVsExecFile = { value: t, goal: '<= 0.5', pass: t <= 0.5 }
    targets.peakVsOutput = { value: p, goal: '<= 1.2', pass: p <= 1.2 }
    console.log(`  target: offload time ${(t * 100).toFixed(0)}% of execFile's -> ${target(t, t <= 0.5, '<= 50%')}`)
    console.log(`  target: offload peak RSS ${p.toFixed(2)}x output -> ${target(p, p <= 1.2, '<= 1.2x')}`)
  }
  return {
    config: { bytes: BYTES, file: headPath, rounds: ROUNDS },
    results: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { median: med[k], runs: v }])),
    targets
  }
}

module.exports = { name: 'capture', run }
