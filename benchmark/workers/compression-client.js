'use strict'
// Client process of the compression scenario, forked by the server helper
// (workers/compression.js) so the clients' parsing and the kernel's loopback work do not load
// the server's event loop. `clients` keep-alive connections (node:http Agent) each keep one
// GET /data.json outstanding with `Accept-Encoding: <coding>`; a separate keep-alive Agent
// sends GET /health every `healthEveryMs`, so a health check never queues behind a JSON
// response on the same socket (what a load balancer's probe would see).
// Correctness before timing: every warm-up response (`warm` per connection) must carry the
// expected Content-Encoding and decode with node:zlib to exactly the bytes of `bodyFile`;
// /health must answer 200 `ok` without Content-Encoding. Timed responses are checked for
// status and Content-Encoding only (decoding them here would load the shared 2 cores).
// Protocol: sends { ready } after warm-up, waits for { go }, runs `durationMs`, sends
// { result } and exits. `clients: 0` runs only the /health probe (the idle baseline).
// argv: JSON { port, coding ('gzip' | 'br' | 'identity'), bodyFile, clients, warm, durationMs,
//   healthEveryMs }.

const fs = require('node:fs')
const http = require('node:http')
const zlib = require('node:zlib')
const { performance } = require('node:perf_hooks')
const { percentile } = require('../lib')

const cfg = JSON.parse(process.argv[2])
const body = fs.readFileSync(cfg.bodyFile)
const acceptEncoding = cfg.coding === 'identity' ? 'identity' : cfg.coding
const expectEncoding = cfg.coding === 'identity' ? undefined : cfg.coding
const dataAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, cfg.clients) })
const healthAgent = new http.Agent({ keepAlive: true })

// GET `path`; resolves with { status, encoding, bytes, chunks (when keep) }.
function get (path, agent, keep) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: cfg.port, path, agent, headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks = []
      let bytes = 0
      res.on('data', (c) => {
        bytes += c.length
        if (keep) chunks.push(c)
      })
      res.on('end', () => resolve({ status: res.statusCode, encoding: res.headers['content-encoding'], bytes, chunks }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function checkHead (r, what) {
  if (r.status !== 200 || r.encoding !== expectEncoding) throw new Error(`${what}: status ${r.status}, Content-Encoding ${r.encoding} (expected 200, ${expectEncoding})`)
}

function decode (buf) {
  if (cfg.coding === 'gzip') return zlib.gunzipSync(buf)
  if (cfg.coding === 'br') return zlib.brotliDecompressSync(buf)
  return buf
}

async function verifyData () {
  const r = await get('/data.json', dataAgent, true)
  checkHead(r, 'GET /data.json')
  const wire = Buffer.concat(r.chunks)
  if (!decode(wire).equals(body)) throw new Error(`GET /data.json (${cfg.coding}): the ${wire.length} bytes received do not decode to the ${body.length}-byte JSON`)
  return wire.length
}

async function verifyHealth () {
  const r = await get('/health', healthAgent, true)
  const text = Buffer.concat(r.chunks).toString()
  if (r.status !== 200 || r.encoding !== undefined || text !== 'ok') throw new Error(`GET /health: status ${r.status}, Content-Encoding ${r.encoding}, body ${JSON.stringify(text.slice(0, 40))} (expected 200, none, "ok")`)
}

async function run () {
  const healthLat = []
  const healthAll = []
  const health = () => {
    const s = performance.now()
    healthAll.push(get('/health', healthAgent, false).then((r) => {
      if (r.status !== 200 || r.encoding !== undefined) throw new Error(`GET /health during the run: status ${r.status}, Content-Encoding ${r.encoding}`)
      healthLat.push(performance.now() - s)
    }))
  }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + cfg.durationMs
  health()
  const timer = setInterval(health, cfg.healthEveryMs)
  let requests = 0
  let bytes = 0
  const lat = []
  // Requests in flight at the deadline still finish and count; the elapsed time covers them.
  const lane = async () => {
    while (performance.now() < deadline) {
      const s = performance.now()
      const r = await get('/data.json', dataAgent, false)
      checkHead(r, 'GET /data.json during the run')
      lat.push(performance.now() - s)
      requests++
      bytes += r.bytes
    }
  }
  await Promise.all(Array.from({ length: cfg.clients }, lane))
  if (cfg.clients === 0) await new Promise((resolve) => setTimeout(resolve, cfg.durationMs))
  const elapsedMs = performance.now() - t0
  clearInterval(timer)
  await Promise.all(healthAll)
  const cpu = process.cpuUsage(cpu0)
  return {
    elapsedMs,
    requests,
    reqPerSec: requests / (elapsedMs / 1000),
    responseBytes: requests ? bytes / requests : null,
    latency: { p50: percentile(lat, 50), p99: percentile(lat, 99) },
    health: { probes: healthLat.length, p50: percentile(healthLat, 50), p99: percentile(healthLat, 99), max: Math.max(...healthLat) },
    clientCores: (cpu.user + cpu.system) / 1000 / elapsedMs
  }
}

async function main () {
  await verifyHealth()
  let responseBytes = null
  if (cfg.clients > 0) {
    const sizes = await Promise.all(Array.from({ length: cfg.clients }, async () => {
      const out = []
      for (let i = 0; i < cfg.warm; i++) out.push(await verifyData())
      return out
    }))
    responseBytes = sizes.flat()
  }
  process.send({ ready: true, verified: responseBytes ? responseBytes.length : 0, verifiedBytes: responseBytes })
  await new Promise((resolve) => process.once('message', resolve))
  const result = await run()
  dataAgent.destroy()
  healthAgent.destroy()
  process.send({ result }, () => process.exit(0))
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
