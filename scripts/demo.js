'use strict'
// `npm run demo`: starts examples/express/server.js on a free loopback port and drives its
// /compress route two ways, inline on the event loop and with offload, while a separate
// client polls /health. Prints /health latency, heavy-route throughput and the server's
// event-loop delay side by side. Loopback only; finishes by itself in about 20 s (a 60 s
// deadline ends it with an error if the server stalls).
const http = require('node:http')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn } = require('node:child_process')
const { percentile } = require('../benchmark/lib')

const SECONDS = Number(process.env.DEMO_SECONDS ?? 8)
const CLIENTS = 4 // concurrent uploaders of the heavy route
const HEALTH_EVERY_MS = 20

// 2 MiB of log lines: compressible, like the bodies such a route gets.
function logText(bytes) {
  const lines = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const line = `2026-11-22T08:${String(i % 60).padStart(2, '0')}:00Z GET /api/items/${(i * 7919) % 100000} ${[200, 200, 304, 404, 500][i % 5]} ${(i * 31) % 997}ms user=${(i * 13) % 5000}\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

function request(agent, port, method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
      res.on('error', reject)
      res.on('aborted', () => reject(new Error(`${url}: the server cut the response`)))
    })
    req.setTimeout(20_000, () => req.destroy(new Error(`${url}: no answer within 20 s`)))
    req.on('error', reject)
    req.end(body)
  })
}

async function phase(port, mode, body) {
  const heavyAgent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS })
  const healthAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  await request(healthAgent, port, 'GET', '/loop?reset=1')
  const end = Date.now() + SECONDS * 1000
  let done = 0
  let failed = 0
  const url = mode === 'inline' ? '/compress?inline=1' : '/compress'
  const uploader = async () => {
    while (Date.now() < end) {
      const r = await request(heavyAgent, port, 'POST', url, body)
      if (r.status !== 200) failed++
      else if (done++ % 50 === 0 && !zlib.gunzipSync(r.body).equals(body)) throw new Error('the server returned a wrong gzip body')
    }
  }
  const latencies = []
  const poller = async () => {
    while (Date.now() < end) {
      const t = performance.now()
      const r = await request(healthAgent, port, 'GET', '/health')
      if (r.status !== 200) throw new Error(`/health answered ${r.status}`)
      latencies.push(performance.now() - t)
      await new Promise((resolve) => setTimeout(resolve, HEALTH_EVERY_MS))
    }
  }
  const started = performance.now()
  await Promise.all([poller(), ...Array.from({ length: CLIENTS }, uploader)])
  const elapsed = (performance.now() - started) / 1000
  const loop = JSON.parse((await request(healthAgent, port, 'GET', '/loop')).body)
  heavyAgent.destroy()
  healthAgent.destroy()
  return {
    mode,
    health: { n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    perSecond: done / elapsed,
    failed,
    loop,
  }
}

function table(rows) {
  const header = ['heavy route', '/health p50 ms', '/health p99 ms', '/health max ms', 'health checks', 'compress req/s', 'loop p99 ms', 'loop max ms']
  const cells = rows.map((r) => [
    r.mode === 'inline' ? 'inline (zlib.gzipSync)' : 'offload.compress',
    r.health.p50.toFixed(1), r.health.p99.toFixed(1), r.health.max.toFixed(1), String(r.health.n),
    r.perSecond.toFixed(1), r.loop.p99.toFixed(1), r.loop.max.toFixed(1),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ')
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) console.log(line(c))
}

async function main() {
  const server = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'express', 'server.js')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })))
  const deadline = setTimeout(() => {
    console.error('demo: no result within 60 s; stopping')
    server.kill('SIGKILL')
    process.exit(1)
  }, 60_000)
  deadline.unref()
  const port = await new Promise((resolve, reject) => {
    let out = ''
    server.stdout.on('data', (c) => {
      out += c
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    exited.then(({ code, signal }) => reject(new Error(`the example server exited (${signal ?? `code ${code}`}) before it listened`)))
  })
  // A server that dies mid-run fails the demo instead of leaving it waiting.
  const died = exited.then(({ code, signal }) => { throw new Error(`the example server died (${signal ?? `code ${code}`})`) })
  died.catch(() => {})
  const body = logText(2 * 1024 * 1024)
  console.log(`offload demo: examples/express/server.js on 127.0.0.1:${port}; ${CLIENTS} clients upload ${body.length} bytes to /compress (gzip level 6) for ${SECONDS} s each way while /health is polled every ${HEALTH_EVERY_MS} ms\n`)
  try {
    const rows = []
    for (const mode of ['inline', 'offload']) rows.push(await Promise.race([phase(port, mode, body), died]))
    table(rows)
    const [inline, off] = rows
    console.log(`\n/health p99: ${inline.health.p99.toFixed(1)} ms inline vs ${off.health.p99.toFixed(1)} ms with offload (ratio ${(inline.health.p99 / off.health.p99).toFixed(1)}); compress throughput ratio ${(off.perSecond / inline.perSecond).toFixed(2)}.`)
    if (inline.failed + off.failed > 0) console.log(`(${inline.failed + off.failed} heavy requests got a status other than 200, e.g. 503 from a full queue)`)
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM')
      const { code } = await exited
      if (code !== 0) process.exitCode = 1
    }
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
