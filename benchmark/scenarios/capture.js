'use strict'
// Scenario 6: buffering 256 MiB of a child's stdout — time and peak RSS.
// The time includes reading every byte of the result (the same check for every
// contestant; see workers/capture.js).
// execFile and execa gather chunks and concatenate at the end (~2x the output
// at the peak); offload should need little more than the output itself.
// Every run is a fresh helper process (workers/capture.js) so each peak RSS is
// one contestant's alone; rounds alternate contestants.

const { execFileSync } = require('node:child_process')
const { QUICK, ROUNDS, rounds, statsOf, range, printTable, target, runHelper, noteHelperNoise, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const MiB = 2 ** 20
const BYTES = (QUICK ? 64 : 256) * MiB

async function run () {
  const headPath = execFileSync('which', ['head'], { encoding: 'utf8' }).trim()
  const names = [...(C.skipOffload ? [] : ['offload']), 'execFile', 'execa']
  const runs = await rounds(names.map((name) => ({ name, run: () => runHelper('capture', [name, headPath, String(BYTES)]) })), ROUNDS)
  for (const v of Object.values(runs)) noteHelperNoise(v)
  const res = statsOf(runs)
  const med = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.median]))
  const base = med.execFile.elapsedMs

  printTable(`6. capture ${BYTES / MiB} MiB of stdout (${headPath} -c ${BYTES} /dev/zero) and read every byte of it, fresh process per run, median of ${ROUNDS} (min–max beside); peak = VmHWM - VmRSS before`,
    ['impl', 'ms', 'min–max', 'MB/s', 'vs execFile', 'peak MiB', 'peak / output', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, s]) => [k, s.median.elapsedMs, range(s, 'elapsedMs'), BYTES / 1e6 / (s.median.elapsedMs / 1000), (s.median.elapsedMs / base).toFixed(2) + 'x',
      s.median.peakAboveBaseline / MiB, (s.median.peakAboveBaseline / BYTES).toFixed(2) + 'x', ...loopCpuCols(s)]))

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
    results: res,
    targets
  }
}

module.exports = { name: 'capture', run }
