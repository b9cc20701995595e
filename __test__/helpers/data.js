'use strict'
// Deterministic test inputs.

// xorshift32 bytes: incompressible, reproducible from the seed.
function random(len, seed) {
  const out = Buffer.alloc(len)
  let x = seed >>> 0 || 1
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

// Realistic, compressible access-log lines, cut to exactly `len` bytes.
function logText(len) {
  const lines = []
  let size = 0
  for (let i = 0; size < len; i++) {
    const line = `2026-11-22T10:00:${String(i % 60).padStart(2, '0')}.${i % 1000}Z INFO req_id=${(i * 7919).toString(16)} method=GET path=/api/users/${i % 977} status=${i % 13 ? 200 : 500} dur_ms=${i % 211}\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, len)
}

module.exports = { random, logText }
