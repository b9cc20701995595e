'use strict'
// The shared half of the abort-then-transfer fixtures (run with --expose-gc): detach a buffer
// the way a caller may once a promise has settled, collect it and reuse the memory at once,
// and a driver that runs rounds and prints their abort-to-rejection latencies as JSON.

/** Detaches `ab` (transfer), collects it, and reuses memory of its size at once. */
function detachAndReuse(ab) {
  const size = ab.byteLength
  structuredClone(ab, { transfer: [ab] })
  globalThis.gc()
  for (let i = 0; i < 4; i++) Buffer.alloc(size, 0xee)
}

/** Runs `once(i)` `rounds` times, then closes `pool` and prints `{ latencies }`. */
function runRounds(rounds, once, pool) {
  ;(async () => {
    const latencies = []
    for (let i = 0; i < rounds; i++) {
      const l = await once(i)
      if (l !== undefined) latencies.push(l)
    }
    await pool.close()
    process.stdout.write(JSON.stringify({ latencies }))
  })().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = { detachAndReuse, runRounds }
