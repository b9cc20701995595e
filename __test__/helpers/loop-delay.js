'use strict'
// The worst event-loop stall while `fn` runs, read so that a block at either edge counts.
// monitorEventLoopDelay records a stall only when its timer next fires, as the time since the
// previous firing: the first firing after enable() has no previous one and records nothing,
// and a block at the very end is recorded only by a firing after it. Hence the waits before
// and after `fn` (as benchmark/lib.js measure() does), on the sample count rather than a
// fixed sleep so that a slow machine cannot skip them.
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { setTimeout: sleep } = require('node:timers/promises')

async function nextSample(histogram) {
  const seen = histogram.count
  while (histogram.count === seen) await sleep(1)
}

async function maxLoopDelay(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  try {
    // One recorded sample means the timer has fired twice: the baseline is set. No reset()
    // afterwards: it would clear the baseline too, and idle samples cannot raise the max.
    await nextSample(histogram)
    const result = await fn()
    await nextSample(histogram)
    return { result, maxDelayMs: histogram.max / 1e6 }
  } finally {
    histogram.disable()
  }
}

module.exports = { maxLoopDelay }
