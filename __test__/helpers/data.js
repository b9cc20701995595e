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

// Log lines with varying timestamps, ids, levels and messages, from a seeded
// xorshift32; compresses about 4.7x at gzip level 6.
function logLines(len, seed) {
  let x = seed >>> 0 || 1
  const next = (n) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n }
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR']
  const messages = ['request served', 'cache miss', 'retrying upstream', 'user logged in', 'slow query', 'connection reset by peer']
  const lines = []
  let size = 0
  for (let t = Date.UTC(2026, 10, 22); size < len; t += next(2000)) {
    const line = `${new Date(t).toISOString()} ${levels[next(levels.length)]} [worker-${next(8)}] id=${next(1 << 30).toString(16)} user=${next(5000)} ${messages[next(messages.length)]} took=${next(900)}ms\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, len)
}

module.exports = { random, logText, logLines }
