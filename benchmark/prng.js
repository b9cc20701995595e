'use strict'
// Deterministic PRNG (mulberry32) so generated inputs are identical run to run. Its own module
// so worker scripts can use it without loading lib.js (which sets V8 flags and starts a
// loop-delay histogram).
function prng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

module.exports = { prng }
