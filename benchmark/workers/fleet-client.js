'use strict'
// Helper process for the fleet scenario: hits the /health server at a steady rate (one request
// every `everyMs`, keep-alive) between the parent's 'start' and 'stop'. Requests go out on
// schedule whether or not the previous one answered (open loop: a slow answer does not
// thin out the probes that would see it). Each latency is send → full body; a late timer
// (this process starved) is reported apart as `lateMs`. Answers 'stop' with the raw latencies.
// argv: JSON { port, everyMs }.
const http = require('node:http')
const { performance } = require('node:perf_hooks')

const { port, everyMs } = JSON.parse(process.argv[2])
const agent = new http.Agent({ keepAlive: true })
let run = null

function probe (r) {
  const t0 = performance.now()
  const req = http.get({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (c) => { body += c })
    res.on('end', () => {
      if (res.statusCode === 200 && JSON.parse(body).ok === true) r.lat.push(performance.now() - t0)
      else r.errors++
    })
  })
  req.on('error', () => { r.errors++ })
}

function tick (r) {
  if (run !== r) return
  const due = r.t0 + r.sent * everyMs
  r.late.push(Math.max(0, performance.now() - due))
  r.sent++
  probe(r)
  setTimeout(tick, Math.max(0, r.t0 + r.sent * everyMs - performance.now()), r)
}

process.on('message', (m) => {
  if (m.cmd === 'start') {
    run = { t0: performance.now(), sent: 0, lat: [], late: [], errors: 0 }
    tick(run)
  } else if (m.cmd === 'stop') {
    const r = run
    run = null
    // Let the last probes answer (they are sub-millisecond on an idle loop).
    setTimeout(() => process.send({ sent: r.sent, lat: r.lat, late: r.late, errors: r.errors }), 50)
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ ready: true })
