'use strict'
// Server helper for one row of the compression scenario: an Express 5 app in this process with
// GET /data.json (the ~1 MiB JSON of `bodyFile`, read once, sent as a Buffer) and GET /health
// (`ok`), behind the row's middleware:
// - 'offload': compression({ pool }) from offload/express, on a pool of its own (`threads` at
//   `nice`, or under SCHED_IDLE with `idlePriority`); its defaults: gzip 6, brotli quality 4;
// - 'compression': the `compression` package as its README shows, app.use(compression()) with
//   its defaults (zlib's level 6 for gzip, brotli quality 4), zlib on libuv's threadpool at
//   its default size;
// - 'identity': no middleware, the ceiling; 'idle': identity with no JSON load, the probes'
//   baseline.
// The ETag setting is off: Express's default weak ETag is a SHA-1 of the whole 1 MiB body on
// the event loop, per request, which would be charged to every row alike and hide what the
// compression costs the loop.
// The clients run in a child process (workers/compression-client.js), which verifies the
// responses and warms up before the measured run starts; meanwhile this process measures
// itself: event-loop delay (lib.measure), fs.promises.readFile every `probeEveryMs`
// (inprocess.js), its CPU (main thread, pool and libuv threads) and its peak RSS.
// argv: JSON { kind, coding, bodyFile, probeFile, probeEveryMs, durationMs, clients, warm,
//   healthEveryMs, threads, nice, idlePriority }. Sends the run: the client's figures plus
//   fs, loop, cpu (cpu.client: the client's cores, taken out of cpu.other), peakRssMiB.

const fs = require('node:fs')
const path = require('node:path')
const { fork } = require('node:child_process')
const { measure, helperMain, gc } = require('../lib')
const { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')

const cfg = JSON.parse(process.argv[2])
const POOL_NAME = 'zip' // short: thread names are cut to 15 bytes (offload-zip-0)

function app (body) {
  const express = require('express')
  const a = express()
  a.set('etag', false)
  a.set('x-powered-by', false)
  let pool = null
  let middleware = null
  if (cfg.kind === 'offload') {
    const { Pool } = require('offload')
    const { compression } = require('offload/express')
    pool = new Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: POOL_NAME })
    middleware = compression({ pool })
    a.use(middleware)
  } else if (cfg.kind === 'compression') {
    a.use(require('compression')())
  } else if (cfg.kind !== 'identity' && cfg.kind !== 'idle') throw new Error(`unknown compression contestant ${cfg.kind}`)
  a.get('/health', (req, res) => { res.type('text/plain').send('ok') })
  a.get('/data.json', (req, res) => { res.type('application/json').send(body) })
  return { app: a, pool, middleware }
}

// Resolves with the client's next IPC message; rejects if it exits first.
function nextMessage (child) {
  return new Promise((resolve, reject) => {
    const onExit = (code, signal) => reject(new Error(`compression client exited with ${signal ?? `code ${code}`} before reporting`))
    child.once('exit', onExit)
    child.once('message', (m) => {
      child.removeListener('exit', onExit)
      resolve(m)
    })
  })
}

helperMain(async () => {
  const body = fs.readFileSync(cfg.bodyFile)
  await fs.promises.readFile(cfg.probeFile) // starts libuv's threads: start-up, not load
  const { app: a, pool, middleware } = app(body)
  const server = await new Promise((resolve, reject) => {
    const s = a.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)))
  })
  const client = fork(path.join(__dirname, 'compression-client.js'), [JSON.stringify({
    port: server.address().port,
    coding: cfg.coding,
    bodyFile: cfg.bodyFile,
    clients: cfg.kind === 'idle' ? 0 : cfg.clients,
    warm: cfg.warm,
    durationMs: cfg.durationMs,
    healthEveryMs: cfg.healthEveryMs
  })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise((resolve) => client.once('exit', resolve))
  try {
    const ready = await nextMessage(client)
    if (pool) checkPoolThreads(POOL_NAME, cfg)
    gc()
    const peakRssScope = resetPeak() ? 'run' : 'process'
    const r = await measure(async () => {
      const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
      const done = nextMessage(client)
      client.send({ go: true })
      const { result } = await done
      return { ...result, fs: probeSummary(await stopProbe()) }
    })
    const peak = peakRssMiB()
    // The client ran on the same cores: its share is ours to name, not the machine's noise.
    const cpu = { ...r.cpu, client: r.clientCores, other: r.cpu.other == null ? null : Math.max(0, r.cpu.other - r.clientCores) }
    const verifiedBytes = ready.verifiedBytes
    await exited
    // A fallback would have sent identity bytes, which the client rejects; counted all the same.
    const fallbacks = middleware ? middleware.stats().fallbacks : 0
    return { ...r, cpu, peakRssMiB: peak, peakRssScope, fallbacks, verified: ready.verified, verifiedBytes: verifiedBytes && { min: Math.min(...verifiedBytes), max: Math.max(...verifiedBytes) } }
  } catch (err) {
    client.kill()
    throw err
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    if (pool) await pool.close()
  }
})
