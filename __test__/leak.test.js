'use strict'
// A leak check that can fail: RSS after 200k tasks (in batches) must stay within a bound that a
// per-task leak of even ~100 bytes would exceed.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool, hash } = require('..')
const { noop } = require('../testing')
const { gc } = require('./helpers/gc')

test('no RSS growth over 200k tasks', async () => {
  const pool = new Pool({ threads: 2, maxQueue: 20_000, name: 'leak' })
  const input = Buffer.alloc(256, 7)
  const batch = async (n) => {
    const ps = []
    for (let i = 0; i < n; i++) ps.push(i % 2 ? noop({ pool }) : hash('sha256', input, { pool, encoding: i % 4 ? 'hex' : 'buffer' }))
    await Promise.all(ps)
  }
  // Warm up so allocator pools and JIT settle before the baseline.
  for (let i = 0; i < 10; i++) await batch(10_000)
  gc()
  const before = process.memoryUsage().rss
  for (let i = 0; i < 20; i++) await batch(10_000)
  gc()
  await new Promise((r) => setTimeout(r, 50))
  const growth = process.memoryUsage().rss - before
  assert.ok(growth < 24 * 1024 * 1024, `RSS grew ${(growth / 1048576).toFixed(1)} MiB over 200k tasks`)
  const s = pool.stats()
  assert.equal(s.completed, 300_000)
  await pool.close()
})
