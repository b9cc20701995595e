'use strict'
// exec() and spawn() against what a caller can do around them: rewrite the environment from
// another thread, chdir while a child waits in the queue, pass odd numbers and signals, feed
// input a child does not read; and what they report back (spawn time, peak RSS).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const { exec, spawn, Supervisor, metrics } = require('..')

const run = promisify(execFile)
const root = path.join(__dirname, '..')

test('spawning while a SHARE_ENV worker rewrites the environment does not crash', async () => {
  const { stdout } = await run(process.execPath, [path.join(__dirname, 'fixtures', 'env-race.js')], { timeout: 60_000 })
  assert.ok(Number(stdout) > 0, stdout)
})

test('the child environment is process.env at the call, set and deleted variables included', async () => {
  process.env.OFFLOAD_HARDEN_SET = 'at the call'
  delete process.env.OFFLOAD_HARDEN_GONE
  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const blocker = exec('sleep', ['0.2'], { supervisor })
  const queued = exec('sh', ['-c', 'echo "$OFFLOAD_HARDEN_SET|${OFFLOAD_HARDEN_GONE-unset}"'], { supervisor })
  // Changed while the child waits for its slot: it must not see this.
  process.env.OFFLOAD_HARDEN_SET = 'later'
  process.env.OFFLOAD_HARDEN_GONE = 'later'
  assert.equal((await queued).stdout, 'at the call|unset')
  await blocker
  delete process.env.OFFLOAD_HARDEN_SET
  delete process.env.OFFLOAD_HARDEN_GONE
  const exact = await exec('sh', ['-c', 'echo "${HOME-none}|$ONLY"'], { extendEnv: false, env: { ONLY: 'this', PATH: process.env.PATH } })
  assert.equal(exact.stdout, 'none|this')
  // On top of process.env, as execa does it: undefined removes, other values become strings.
  const onTop = await exec('sh', ['-c', 'echo "${HOME-none}|$N"'], { env: { HOME: undefined, N: 42 } })
  assert.equal(onTop.stdout, 'none|42')
})

test('a relative cwd, the default cwd and relative PATH entries are resolved at the call, not when a queued child starts', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-cwd-'))
  const sub = path.join(base, 'sub')
  fs.mkdirSync(path.join(sub, 'bin'), { recursive: true })
  fs.writeFileSync(path.join(sub, 'bin', 'offload-hello'), '#!/bin/sh\necho "hello from $(pwd)"\n', { mode: 0o755 })
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-elsewhere-'))
  const original = process.cwd()
  t.after(() => {
    process.chdir(original)
    fs.rmSync(base, { recursive: true, force: true })
    fs.rmSync(elsewhere, { recursive: true, force: true })
  })
  process.chdir(base)
  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const blocker = exec('sleep', ['0.2'], { supervisor })
  const relative = exec('pwd', [], { cwd: 'sub', supervisor })
  const inherited = exec('pwd', [], { supervisor })
  const onPath = exec('offload-hello', [], { cwd: 'sub', env: { PATH: `bin:${process.env.PATH}` }, supervisor })
  process.chdir(elsewhere)
  const real = (p) => fs.realpathSync(p)
  assert.equal(real((await relative).stdout), real(sub))
  assert.equal(real((await inherited).stdout), real(base))
  assert.equal((await onPath).stdout, `hello from ${sub}`)
  await blocker
})

test('numbers are refused, never wrapped: killSignal and kill()', async () => {
  for (const killSignal of [9.7, 2 ** 32 + 15, -9, 0, 65]) {
    const err = await exec('true', [], { killSignal }).catch((e) => e)
    assert.equal(err.code, 'ERR_UNKNOWN_SIGNAL', `killSignal ${killSignal}`)
  }
  const child = spawn('sleep', ['5'])
  await child.spawned
  for (const signal of [9.7, 2 ** 32 + 9]) {
    assert.throws(() => child.kill(signal), { code: 'ERR_UNKNOWN_SIGNAL' }, `kill(${signal})`)
  }
  assert.equal(child.kill(9), true)
  const err = await child.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGKILL')
})

test('exec: an incomplete signal is refused, a throwing removeEventListener does not replace the result', async () => {
  const err = await exec('true', [], { signal: { aborted: false, addEventListener() {} } }).catch((e) => e)
  assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  const real = new AbortController().signal
  const hostile = {
    aborted: false,
    addEventListener: real.addEventListener.bind(real),
    removeEventListener() { throw new Error('polyfill bug') },
  }
  const warned = new Promise((resolve) => process.once('warning', resolve))
  const r = await exec('echo', ['hi'], { signal: hostile })
  assert.equal(r.stdout, 'hi')
  assert.equal((await warned).code, 'OFFLOAD_SIGNAL_CLEANUP')
})

test('input: the result says how much of it the child took', async () => {
  const input = Buffer.alloc(32 << 20, 'a')
  const partial = await exec('head', ['-c', '1048576'], { input, encoding: 'buffer' })
  assert.equal(partial.stdout.length, 1 << 20)
  assert.ok(partial.inputBytesWritten >= 1 << 20 && partial.inputBytesWritten < input.length, String(partial.inputBytesWritten))
  const full = await exec('wc', ['-c'], { input: Buffer.alloc(4 << 20, 'b') })
  assert.equal(full.stdout.trim(), String(4 << 20))
  assert.equal(full.inputBytesWritten, 4 << 20)
  assert.equal((await exec('true')).inputBytesWritten, undefined)
})

test("peak RSS is reported only when it is the child's own: never a misleading 0", async () => {
  // A fresh process, so no earlier test's children count.
  const script = `
    const { exec, processStats, metrics } = require(${JSON.stringify(root)})
    ;(async () => {
      const small = await exec('true')
      const before = { stats: processStats().maxRssBytes, rusage: small.rusage.maxRssBytes, metric: metrics().includes('offload_subprocess_max_rss_bytes') }
      const big = await exec(process.execPath, ['-e', 'Buffer.alloc(300 << 20, 1); setTimeout(() => {}, 50)'])
      const after = { stats: processStats().maxRssBytes, rusage: big.rusage.maxRssBytes, metric: /offload_subprocess_max_rss_bytes (\\d+)/.exec(metrics())?.[1] }
      process.stdout.write(JSON.stringify({ before, after, own: process.resourceUsage().maxRSS * 1024 }))
    })()`
  const { stdout } = await run(process.execPath, ['-e', script], { timeout: 30_000 })
  const { before, after } = JSON.parse(stdout)
  assert.deepEqual(before, { rusage: null, metric: false })
  assert.ok(after.rusage >= 300 << 20, String(after.rusage))
  assert.equal(after.stats, after.rusage)
  assert.equal(Number(after.metric), after.rusage)
})

test("spawn(): 'spawn' fires and spawned resolves with the pid once a queued child exists", async () => {
  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const blocker = exec('sleep', ['0.2'], { supervisor })
  const child = spawn('true', [], { supervisor, stdout: 'ignore', stderr: 'ignore' })
  assert.equal(child.pid, undefined, 'still queued')
  let pidAtEvent
  child.on('spawn', () => { pidAtEvent = child.pid })
  const pid = await child.spawned
  assert.ok(Number.isInteger(pid) && pid > 0)
  assert.equal(child.pid, pid)
  await child.exited
  assert.equal(pidAtEvent, pid)
  await blocker

  const missing = spawn('offload-no-such-program')
  let fired = false
  missing.on('spawn', () => { fired = true })
  const err = await missing.spawned.catch((e) => e)
  assert.equal(err.code, 'ENOENT')
  assert.equal(fired, false)

  const ac = new AbortController()
  const block2 = exec('sleep', ['0.2'], { supervisor })
  const aborted = spawn('true', [], { supervisor, signal: ac.signal })
  ac.abort()
  assert.equal((await aborted.spawned.catch((e) => e)).name, 'AbortError')
  await block2
})
