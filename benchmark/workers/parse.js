'use strict'
// Helper process for one row of the parse scenario: parses `file` once, every row handed to one
// consumer that touches it (counts it, sums its quantity, adds up the length of its customer
// string) and keeps nothing, while fs.promises.readFile of a small file is issued every
// `probeEveryMs` in this same process (benchmark/inprocess.js; peak RSS mark reset before the run).
// Each alternative as its docs show it, streamed from the file where it can stream:
// - 'csv-parse': csv-parse 7's parse({ columns: true }) fed by fs.createReadStream, records
//   read in its 'readable' event (its stream API example; ~5% faster here than `for await`);
// - 'papaparse': Papa.parse(fs.createReadStream(file, 'utf8'), { header: true, chunk }) (the
//   stream decodes UTF-8: papaparse calls toString() on each Buffer chunk, which would split
//   multibyte characters at chunk edges; `chunk` is ~12% faster here than `step`); skipEmptyLines drops the empty "row" after the final
//   newline, which the other parsers never produce;
// - 'readline': readline.createInterface over fs.createReadStream, JSON.parse per 'line' event
//   (node's docs: faster than `for await` over the interface);
// - 'json-parse': JSON.parse(await fs.promises.readFile(file, 'utf8'));
// - 'offload-csv' / 'offload-ndjson' / 'offload-json': parseCsv({ path }, { columns: true }),
//   parseNdjson({ path }), parseJson({ path }) on a pool of this process (`threads` at `nice`,
//   or SCHED_IDLE with idlePriority); native code reads the file.
// A whole JSON array is tallied in slices with a turn of the loop between them, so the
// consumer's own 1M-row walk is not billed as the parser's loop stall.
// kind 'idle' runs no load: the probes' baseline.
// argv: JSON { kind, file, probeFile, probeEveryMs, durationMs, threads, nice, idlePriority }. Sends
//   { elapsedMs, rows, quantity, chars, rowsPerSec, mbPerSec, fs, loop, cpu, peakRssMiB,
//   baseRssMiB, rssGrowthMiB, peakRssScope }.

const fs = require('node:fs')
const readline = require('node:readline')
const { once } = require('node:events')
const { setTimeout: sleep, setImmediate: turn } = require('node:timers/promises')
const { measure, helperMain, gc } = require('../lib')
const { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')

const cfg = JSON.parse(process.argv[2])
const SLICE = 16384 // rows of a whole JSON array tallied per turn of the loop

// The one consumer every row uses. quantity is a string in CSV rows (no casting anywhere) and a
// number in JSON rows; `+` takes both. Plain numbers, so it stays monomorphic and cheap.
function tally () {
  const t = { rows: 0, quantity: 0, chars: 0 }
  t.add = (r) => { t.rows++; t.quantity += +r.quantity; t.chars += r.customer.length }
  t.result = () => ({ rows: t.rows, quantity: t.quantity, chars: t.chars })
  return t
}

async function tallyArray (arr, t) {
  if (!Array.isArray(arr)) throw new Error(`expected a JSON array, got ${typeof arr}`)
  for (let i = 0; i < arr.length; i += SLICE) {
    const end = Math.min(arr.length, i + SLICE)
    for (let j = i; j < end; j++) t.add(arr[j])
    await turn()
  }
}

const CONSUMERS = {
  async 'csv-parse' (file) {
    const { parse } = require('csv-parse')
    const t = tally()
    const parser = parse({ columns: true })
    const src = fs.createReadStream(file)
    src.on('error', (err) => parser.destroy(err))
    parser.on('readable', () => {
      let r
      while ((r = parser.read()) !== null) t.add(r)
    })
    const done = once(parser, 'end') // rejects on the parser's 'error'
    src.pipe(parser)
    await done
    return t.result()
  },
  async papaparse (file) {
    const Papa = require('papaparse')
    const t = tally()
    let bad = 0
    await new Promise((resolve, reject) => {
      const src = fs.createReadStream(file, { encoding: 'utf8' })
      src.on('error', reject)
      Papa.parse(src, {
        header: true,
        skipEmptyLines: true,
        chunk: (res) => {
          bad += res.errors.length
          for (const r of res.data) t.add(r)
        },
        complete: resolve,
        error: reject
      })
    })
    if (bad) throw new Error(`papaparse reported ${bad} row errors`)
    return t.result()
  },
  async readline (file) {
    const t = tally()
    const src = fs.createReadStream(file)
    const rl = readline.createInterface({ input: src, crlfDelay: Infinity })
    rl.on('line', (line) => { if (line) t.add(JSON.parse(line)) })
    await Promise.race([once(rl, 'close'), once(src, 'error').then(([err]) => { throw err })])
    return t.result()
  },
  async 'json-parse' (file) {
    const t = tally()
    await tallyArray(JSON.parse(await fs.promises.readFile(file, 'utf8')), t)
    return t.result()
  },
  async 'offload-csv' (file, api, pool) {
    const t = tally()
    for await (const batch of api.parseCsv({ path: file }, { columns: true, pool })) for (const r of batch) t.add(r)
    return t.result()
  },
  async 'offload-ndjson' (file, api, pool) {
    const t = tally()
    for await (const batch of api.parseNdjson({ path: file }, { pool })) for (const r of batch) t.add(r)
    return t.result()
  },
  async 'offload-json' (file, api, pool) {
    const t = tally()
    await tallyArray(await api.parseJson({ path: file }, { pool }), t)
    return t.result()
  }
}

helperMain(async () => {
  await fs.promises.readFile(cfg.probeFile) // starts libuv's threads: start-up, not load
  const consume = CONSUMERS[cfg.kind]
  if (!consume && cfg.kind !== 'idle') throw new Error(`unknown parse contestant ${cfg.kind}`)
  let api, pool
  if (cfg.kind.startsWith('offload')) {
    api = require('../..')
    pool = new api.Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: 'parse' })
    // Every pool thread started (and its priority taken) before the check: several tasks of
    // ~2.5 ms each at once, as the files worker does, repeated for up to 10 s, since on a busy
    // machine one thread can drain a whole wave before the second is scheduled (seen once).
    const block = Buffer.alloc(4 << 20)
    for (const end = Date.now() + 10_000; ;) {
      await Promise.all(Array.from({ length: 4 * cfg.threads }, () => api.hash('sha256', block, { pool })))
      try {
        checkPoolThreads('parse', cfg)
        break
      } catch (err) {
        if (Date.now() > end) throw err
      }
    }
  }

  gc()
  const baseRssMiB = process.memoryUsage().rss / 2 ** 20
  const peakRssScope = resetPeak() ? 'run' : 'process'
  const r = await measure(async () => {
    const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
    const out = consume ? await consume(cfg.file, api, pool) : await sleep(cfg.durationMs).then(() => ({}))
    return { ...out, fs: probeSummary(await stopProbe()) }
  })
  const peak = peakRssMiB()
  if (pool) await pool.close()
  const s = r.elapsedMs / 1000
  const size = fs.statSync(cfg.file).size
  return {
    ...r,
    rowsPerSec: consume ? r.rows / s : null,
    mbPerSec: consume ? size / 1e6 / s : null,
    peakRssMiB: peak,
    baseRssMiB,
    rssGrowthMiB: peak - baseRssMiB,
    peakRssScope
  }
})
