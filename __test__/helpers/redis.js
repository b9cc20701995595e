'use strict'
// A private redis-server for a test: a free loopback port, a temporary directory, no
// persistence. `startRedis()` resolves once it answers PING; `stop()` kills it (SIGKILL after
// 2 s) and removes the directory. A process-exit hook kills any left running, so a failed test
// leaks no server. redis-server missing is a failure with a clear message, not a skip
// (.ci/run installs it).
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')

const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function redisServerPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('redis-server is not installed: these tests need a real Redis (apt-get install redis-server; .ci/run installs it)')
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

// One PING over a raw socket; true when answered +PONG.
function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    const done = (ok) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(1000, () => done(false))
    s.once('error', () => done(false))
    s.once('data', (d) => done(d.toString().startsWith('+PONG')))
    s.write('PING\r\n')
  })
}

async function startRedis() {
  const bin = redisServerPath()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-redis-'))
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] })
    running.add(child)
    let exited = false
    child.once('exit', () => {
      exited = true
      running.delete(child)
    })
    const end = Date.now() + 10000
    while (!exited && Date.now() < end && !(await ping(port))) await sleep(20)
    if (!exited && (await ping(port))) {
      const stop = async () => {
        if (!exited) {
          const gone = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
          await gone
          clearTimeout(timer)
        }
        fs.rmSync(dir, { recursive: true, force: true })
      }
      return { port, host: '127.0.0.1', connection: { host: '127.0.0.1', port }, url: `redis://127.0.0.1:${port}`, pid: child.pid, stop }
    }
    child.kill('SIGKILL')
    // Another process may have taken the port between freePort() and the bind: try again.
    if (attempt >= 2) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not start on 127.0.0.1:${port}`)
    }
  }
}

module.exports = { startRedis }
