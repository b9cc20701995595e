'use strict'
// Leak checks that can fail. Each workload runs a warm-up (so allocator arenas, the JIT and
// V8's heap reach their working size), then `n` more calls, reading memory after full GCs as
// it goes (see growth()), in two parts:
// - the JS heap (heapUsed): whatever JS keeps per call (a promise, a table entry, a result);
// - native memory: bytes the C allocator has handed out and not had back (mallinfo2, through
//   offload/testing), whatever allocated them: the addon, Node, Buffers' memory. RSS would do
//   in principle, but the allocator keeps and returns free memory in steps of up to 20 MiB
//   (codec state of five sizes on three threads), which buries a leak of 100 B per call.
// Each bound is stated per call below, well under the 100 B per call that must fail; the
// readings are printed as diagnostics.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool, hash, compress, decompress, exec } = require('..')
const { noop, spin, mallocInUse } = require('offload/testing')
const { gc } = require('./helpers/gc')

const KiB = 1024
const MiB = 1024 * KiB

// Memory once collected garbage is really gone: a Buffer's memory is freed by a finalizer that
// runs after the GC, on the event loop, so collect and yield until the external byte count
// stops moving (two equal readings; a few rounds in practice).
async function settled() {
  let last
  for (let i = 0; i < 50; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    const m = process.memoryUsage()
    const external = m.external + m.arrayBuffers
    if (external === last) break
    last = external
  }
  const m = process.memoryUsage()
  const inUse = mallocInUse()
  // Without mallinfo2 (not glibc), RSS outside V8's heap: the same check, only noisier.
  return { heap: m.heapUsed, native: inUse >= 0 ? inUse : m.rss - m.heapTotal }
}

// Runs `call(i)` `warmup` times, then `n` times in 8 rounds, `batch` in flight at once, reading
// memory before the first round and after each. Caches and pools fill and drain (a few hundred
// KiB either way), but a leak raises every reading after it: so compare floors, the lowest of
// the last three readings with the lowest of the first three. Readings 2 and 6 are four rounds
// apart, so a leak of L bytes per call shows as at least L * n / 2 of growth.
async function growth(call, { warmup, n, batch }) {
  let next = 0
  const run = async (count) => {
    for (const end = next + count; next < end;) {
      const pending = []
      for (const stop = Math.min(next + batch, end); next < stop; next++) pending.push(call(next))
      await Promise.all(pending)
    }
  }
  await run(warmup)
  const readings = [await settled()]
  for (let round = 0; round < 8; round++) {
    await run(n / 8)
    readings.push(await settled())
  }
  const floor = (key, from, to) => Math.min(...readings.slice(from, to).map((r) => r[key]))
  const rise = (key) => floor(key, 6, 9) - floor(key, 0, 3)
  const series = (key) => readings.map((r) => Math.round((r[key] - readings[0][key]) / KiB)).join(' ')
  return { heap: rise('heap'), native: rise('native'), series: `heap ${series('heap')}; native ${series('native')} (KiB)` }
}

function check(t, g, n, bounds) {
  // Per call over the n / 2 calls that at least lie between the floors.
  const perCall = (bytes) => `${(bytes / KiB).toFixed(0)} KiB (${(bytes / (n / 2)).toFixed(1)} B per call)`
  const detail = `over ${n} calls: JS heap ${perCall(g.heap)}, native ${perCall(g.native)}; ${g.series}`
  t.diagnostic(detail)
  assert.ok(g.heap < bounds.heap, `the JS heap grew ${detail}`)
  assert.ok(g.native < bounds.native, `native memory grew ${detail}`)
}

test('no memory growth over 200k tasks without a signal or a timeout', async (t) => {
  const pool = new Pool({ threads: 2, maxQueue: 20_000, name: 'leak' })
  const input = Buffer.alloc(256, 7)
  const n = 200_000
  const call = (i) => (i % 2 ? noop({ pool }) : hash('sha256', input, { pool, encoding: i % 4 ? 'hex' : 'buffer' }))
  const g = await growth(call, { warmup: 100_000, n, batch: 10_000 })
  // A leak of 100 B per task rises by at least 9.5 MiB (n / 2 tasks); the bounds are 1 MiB
  // native and 1 MiB of JS heap (10.5 B per task each). Measured: within 0.2 MiB of both.
  check(t, g, n, { native: 1 * MiB, heap: 1 * MiB })
  assert.equal(pool.stats().completed, 300_000)
  await pool.close()
})

test('no memory growth over 100k cancellable tasks, aborted and timed out ones included', async (t) => {
  const pool = new Pool({ threads: 2, maxQueue: 20_000, name: 'leakcancel' })
  const input = Buffer.alloc(256, 7)
  const outcomes = { ok: 0, ABORT_ERR: 0, ERR_OFFLOAD_TIMEOUT: 0 }
  const tally = (p) => p.then(() => { outcomes.ok++ }, (e) => { outcomes[e.code]++ })
  const call = (i) => {
    const ac = new AbortController()
    switch (i % 5) {
      case 0: return tally(hash('sha256', input, { pool, signal: ac.signal })) // never aborted
      case 1: return tally(noop({ pool, timeout: 60_000 })) // finishes long before its timeout
      case 2: { // aborted while queued or running
        const p = tally(spin(0.01, { pool, signal: ac.signal }))
        ac.abort()
        return p
      }
      case 3: return tally(spin(60_000, { pool, timeout: 1 })) // times out, queued or running
      default: return tally(hash('sha256', input, { pool, signal: AbortSignal.abort() })) // never submitted
    }
  }
  const n = 100_000
  const g = await growth(call, { warmup: 50_000, n, batch: 5000 })
  // A leak of 100 B per task rises by at least 4.8 MiB (n / 2 tasks); the bounds are 1 MiB
  // native and 1 MiB of JS heap (21 B per task each). Measured: within 0.4 MiB of both.
  check(t, g, n, { native: 1 * MiB, heap: 1 * MiB })
  const total = 150_000
  assert.deepEqual(outcomes, { ok: (2 * total) / 5, ABORT_ERR: (2 * total) / 5, ERR_OFFLOAD_TIMEOUT: total / 5 })
  // Every timed-out spin was cancelled in the pool (dequeued or stopped), not left to run.
  assert.equal(pool.stats().timedOut, total / 5)
  await pool.close()
})

test('no memory growth over 200k compressions and decompressions', async (t) => {
  const pool = new Pool({ threads: 2, maxQueue: 20_000, name: 'leakzip' })
  const text = Buffer.from('offload compresses this line; '.repeat(40))
  const formats = ['gzip', 'deflate', 'zstd', 'lz4', 'brotli']
  const level = (f) => (f === 'brotli' ? 1 : undefined) // brotli's default (11) is slow
  const packed = {}
  for (const f of formats) packed[f] = await compress(f, text, { level: level(f) })
  const call = (i) => {
    const f = formats[i % 5]
    return i % 10 < 5 ? compress(f, text, { pool, level: level(f) }) : decompress(f, packed[f], { pool })
  }
  const n = 200_000
  const g = await growth(call, { warmup: 50_000, n, batch: 64 })
  // A leak of 100 B per call rises by at least 9.5 MiB (n / 2 calls); the bounds are 1 MiB
  // native and 1 MiB of JS heap (10.5 B per call each). Measured: within 0.1 MiB of both.
  check(t, g, n, { native: 1 * MiB, heap: 1 * MiB })
  assert.equal(pool.stats().completed, 250_000)
  await pool.close()
})

test('no memory growth over 6000 exec() calls', async (t) => {
  let exits = 0
  const call = () => exec('true').then((r) => { exits += r.exitCode === 0 })
  const n = 6000
  const g = await growth(call, { warmup: 2000, n, batch: 8 })
  // Each call spawns a process, so fewer calls (3000 between the floors): the bounds are
  // 256 KiB native and 256 KiB of JS heap (87 B per call each: smaller than any object kept
  // per call, JS or native, such as a child's record or its result). Measured: within
  // 0.1 MiB native, 0.25 MiB heap (a blip of 0.24 MiB that the floors skip).
  check(t, g, n, { native: 256 * KiB, heap: 256 * KiB })
  assert.equal(exits, 8000)
})
