'use strict'
// What a helper process (benchmark/workers) measures about itself while its row's load runs:
// the latency of fs.promises.readFile issued every few ms in the same process (whose libuv
// threadpool is the one that libuv-based contestants share with fs), its peak RSS, and the
// scheduling of an offload pool's threads (a row labelled "nice 10" or "idlePriority" must
// really run so).
// Peak RSS: on Linux the kernel's mark is reset (/proc/self/clear_refs) after warm-up, so VmHWM
// afterwards is the highest resident size since; elsewhere it is the process's lifetime maxRSS,
// and resetPeak() returns false so the row can say which.

const fs = require('node:fs')
const { percentile, performance, threadNices, threadPolicies } = require('./lib')

// Starts probing; the returned stop() ends it and resolves with every probe's latency (ms),
// once the ones still outstanding have finished. Probes are timed from the moment each is
// issued; one whose timer a busy loop holds up starts late, and that wait shows in the
// loop-delay columns instead.
function startProbe (file, everyMs) {
  const lat = []
  const all = []
  const one = () => {
    const s = performance.now()
    all.push(fs.promises.readFile(file).then(() => { lat.push(performance.now() - s) }))
  }
  one()
  const timer = setInterval(one, everyMs)
  return async () => {
    clearInterval(timer)
    await Promise.all(all)
    return lat
  }
}

const probeSummary = (lat) => ({ probes: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat) })

// Resets the kernel's peak-RSS mark to the current RSS; false where that is not possible.
function resetPeak () {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

function peakRssMiB () {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'))[1]) / 1024
  } catch {
    return process.resourceUsage().maxRSS / 1024
  }
}

// Throws unless the threads of offload pool `name` (started: call after warm-up) run as
// configured: `threads` of them under SCHED_IDLE (policy 5) with idlePriority, else at `nice`.
function checkPoolThreads (name, { threads, nice, idlePriority }) {
  if (process.platform !== 'linux') return
  const prefix = `offload-${name}-`
  if (idlePriority) {
    const policies = threadPolicies(prefix)
    if (policies.length !== threads || policies.some((p) => p !== 5)) throw new Error(`${prefix} threads under policies [${policies.join(', ')}], expected ${threads} under SCHED_IDLE (5)`)
  } else {
    const nices = threadNices(prefix)
    if (nices.length !== threads || nices.some((n) => n !== nice)) throw new Error(`${prefix} threads at nice [${nices.join(', ')}], expected ${threads} at ${nice}`)
  }
}

module.exports = { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads }
