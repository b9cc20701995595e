'use strict'
// BullMQ jobs/s for small jobs (issue 19): a sha256 of 4 KiB and of 1 MiB per job, one worker
// process, offload's createWorker (hash on an offload Pool) against inline BullMQ (node:crypto
// on the event loop), same concurrency, on a private redis-server (loopback, no persistence).
// Each round is a fresh helper process (workers/bullmq.js) and a fresh queue; implementations
// alternate. Also the worker process's event-loop delay while it ran: the loop BullMQ's lock
// renewal needs. Informational: no targets.
const { startRedis } = require('../../__test__/helpers/redis')
const { QUICK, ROUNDS, THREADS, statsOf, printTable, range, runHelper } = require('../lib')

const CONCURRENCY = 2 * THREADS
const SIZES = [
  { key: '4KiB', bytes: 4096, jobs: QUICK ? 600 : 3000 },
  { key: '1MiB', bytes: 1 << 20, jobs: QUICK ? 40 : 200 },
]
const IMPLS = ['offload', 'inline']

async function run () {
  const redis = await startRedis()
  try {
    const results = {}
    const targets = {}
    for (const size of SIZES) {
      const runs = Object.fromEntries(IMPLS.map((k) => [k, []]))
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which goes first, so drift in the machine's load is shared.
        for (const mode of r % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
          const cfg = { port: redis.port, mode, bytes: size.bytes, jobs: size.jobs, concurrency: CONCURRENCY, threads: THREADS }
          runs[mode].push(await runHelper('bullmq', [JSON.stringify(cfg)], { timeoutMs: 120_000 }))
        }
      }
      const s = statsOf(runs)
      results[size.key] = { jobs: size.jobs, ...s }
      const off = s.offload.median.jobsPerSec
      printTable(`bullmq. sha256 of ${size.key} per job, ${size.jobs} jobs, one worker process, concurrency ${CONCURRENCY}, median of ${ROUNDS} (min–max beside); loop = the worker process's event-loop delay (ms); cpu = cores its process used`,
        ['impl', 'jobs/s', 'min–max', 'offload / this', 'loop p50', 'loop p99', 'p99 min–max', 'loop max', 'cpu'],
        IMPLS.map((k) => [k, s[k].median.jobsPerSec, range(s[k], 'jobsPerSec'), (off / s[k].median.jobsPerSec).toFixed(2) + 'x',
          s[k].median.loop.p50, s[k].median.loop.p99, range(s[k], 'loop.p99'), s[k].median.loop.max, s[k].median.cpu.self.toFixed(2)]))
      targets[`offloadVsInline_${size.key}`] = { value: off / s.inline.median.jobsPerSec, goal: 'informational' }
    }
    return { config: { concurrency: CONCURRENCY, rounds: ROUNDS, sizes: SIZES }, results, targets }
  } finally {
    await redis.stop()
  }
}

module.exports = { name: 'bullmq', run }
