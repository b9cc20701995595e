'use strict'
// `npm run demo`: starts examples/express/server.js on a free loopback port and drives its
// /compress route three ways, inline on the event loop (zlib.gzipSync), with Node's async
// zlib.gzip (libuv's threadpool, 1 MiB chunkSize) and with offload, and its /thumbnail route
// (a 2725x2225 photo to a 320-px JPEG with offload.transformImage), while a separate client
// polls /health. Each mode runs DEMO_RUNS times (default 3), the order rotating every run so
// drift favours none; prints medians with min–max of /health latency, heavy-route throughput
// and the server's event-loop delay. Loopback only; finishes by itself in about 35 s (a
// deadline ends it with an error if the server stalls).
const http = require('node:http')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn } = require('node:child_process')
const { percentile, median } = require('../benchmark/lib')

const SECONDS = Number(process.env.DEMO_SECONDS ?? 3)
const RUNS = Math.max(1, Number(process.env.DEMO_RUNS ?? 3))
const MODES = ['inline', 'zlib', 'offload', 'thumbnail']
const LABELS = { inline: 'inline (zlib.gzipSync)', zlib: 'zlib.gzip (async)', offload: 'offload.compress', thumbnail: 'offload.transformImage' }
const URLS = { inline: '/compress?inline=1', zlib: '/compress?zlib=1', offload: '/compress', thumbnail: '/thumbnail?width=320&format=jpeg' }
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

// A photo-like 2725 x 2225 JPEG (sharp's benchmark size): a PNG written here, re-encoded by
// offload, so the demo needs no image library of its own.
async function photoJpeg(width = 2725, height = 2225) {
  const { transformImage } = require('..')
  const rows = []
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3)
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 255 / width + 40 * Math.sin(y / 17)) & 255
      row[2 + x * 3] = (y * 255 / height + 40 * Math.cos(x / 23)) & 255
      row[3 + x * 3] = ((x ^ y) & 63) + 96
    }
    rows.push(row)
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length)
    head.write(type, 4, 'latin1')
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])))
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))])
  return transformImage(png, { format: 'jpeg', quality: 90 })
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
  const url = URLS[mode]
  const uploader = async () => {
    while (Date.now() < end) {
      const r = await request(heavyAgent, port, 'POST', url, body)
      if (r.status !== 200) failed++
      else if (done++ % 50 !== 0) continue
      else if (mode === 'thumbnail') {
        const info = await require('..').imageInfo(r.body)
        if (info.format !== 'jpeg' || info.width !== 320) throw new Error(`the server returned a wrong thumbnail: ${JSON.stringify(info)}`)
      } else if (!zlib.gunzipSync(r.body).equals(body)) throw new Error('the server returned a wrong gzip body')
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

// "5.1 (4.8–6.0)": median over the runs, min–max beside it.
function cell(xs, digits = 1) {
  const m = median(xs)
  if (xs.length === 1) return m.toFixed(digits)
  return `${m.toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
}

function table(byMode) {
  const header = ['heavy route', '/health p50 ms', '/health p99 ms', '/health max ms', 'health checks', 'heavy req/s', 'loop p99 ms', 'loop max ms']
  const cells = MODES.map((mode) => {
    const rs = byMode[mode]
    return [
      LABELS[mode],
      cell(rs.map((r) => r.health.p50)), cell(rs.map((r) => r.health.p99)), cell(rs.map((r) => r.health.max)),
      String(median(rs.map((r) => r.health.n))),
      cell(rs.map((r) => r.perSecond)), cell(rs.map((r) => r.loop.p99)), cell(rs.map((r) => r.loop.max)),
    ]
  })
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
  // Generous, but bounded: a stalled server must not hang the demo.
  const deadlineMs = (RUNS * MODES.length * (SECONDS + 5) + 60) * 1000
  const deadline = setTimeout(() => {
    console.error(`demo: no result within ${deadlineMs / 1000} s; stopping`)
    server.kill('SIGKILL')
    process.exit(1)
  }, deadlineMs)
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
  const log = logText(2 * 1024 * 1024)
  const photo = await photoJpeg()
  const bodyOf = (mode) => (mode === 'thumbnail' ? photo : log)
  console.log(`offload demo: examples/express/server.js on 127.0.0.1:${port}; ${CLIENTS} clients upload ${log.length} bytes to /compress (gzip level 6), or a ${photo.length}-byte 2725x2225 JPEG to /thumbnail (320 px), for ${SECONDS} s per run while /health is polled every ${HEALTH_EVERY_MS} ms; ${RUNS} runs of each mode, order rotating; medians (min–max)\n`)
  try {
    const byMode = Object.fromEntries(MODES.map((m) => [m, []]))
    for (let r = 0; r < RUNS; r++) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(k + r) % MODES.length]
        byMode[mode].push(await Promise.race([phase(port, mode, bodyOf(mode)), died]))
      }
      if (process.stderr.isTTY) process.stderr.write(`  run ${r + 1}/${RUNS} done\r`)
    }
    table(byMode)
    const p99 = (m) => median(byMode[m].map((r) => r.health.p99))
    const rate = (m) => median(byMode[m].map((r) => r.perSecond))
    console.log(`\n/health p99 (medians): ${p99('inline').toFixed(1)} ms inline, ${p99('zlib').toFixed(1)} ms with zlib.gzip, ${p99('offload').toFixed(1)} ms with offload; compress throughput offload / inline ${(rate('offload') / rate('inline')).toFixed(2)}, offload / zlib.gzip ${(rate('offload') / rate('zlib')).toFixed(2)}. Thumbnails: ${rate('thumbnail').toFixed(1)}/s with /health p99 ${p99('thumbnail').toFixed(1)} ms.`)
    const failed = MODES.reduce((n, m) => n + byMode[m].reduce((a, r) => a + r.failed, 0), 0)
    if (failed > 0) console.log(`(${failed} heavy requests got a status other than 200, e.g. 503 from a full queue)`)
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
