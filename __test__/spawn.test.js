'use strict'
// spawn(): streams in both directions with backpressure, lines(), kill() with escalation,
// `exited`, and argument errors thrown synchronously.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { spawn, Subprocess, SubprocessError, Supervisor, OffloadError } = require('..')
const { inspect } = require('node:util')
const { dies, stat } = require('./helpers/proc')
const { until } = require('./helpers/until')

// The process group of `pid` (the field after the parent's pid in /proc/<pid>/stat).
function pgid(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[2])
}

async function collect(iterable) {
  const out = []
  for await (const item of iterable) out.push(item)
  return out
}

test('stdin and stdout stream 20 MiB through cat unchanged', async () => {
  const data = Buffer.alloc(20 * 1024 * 1024)
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i)
  const child = spawn('cat')
  assert.ok(child instanceof Subprocess)
  const chunks = []
  const reading = (async () => {
    for await (const chunk of child.stdout) chunks.push(chunk)
  })()
  // Many writes, so the pipe fills and writes wait for the reader.
  for (let i = 0; i < data.length; i += 256 * 1024) {
    if (!child.stdin.write(data.subarray(i, i + 256 * 1024))) await new Promise((r) => child.stdin.once('drain', r))
  }
  child.stdin.end()
  await reading
  const out = Buffer.concat(chunks)
  assert.equal(out.length, data.length)
  assert.ok(out.equals(data))
  const r = await child.exited
  assert.equal(r.exitCode, 0)
  assert.equal(r.stdout, undefined)
})

test('a slow reader holds the child back instead of buffering without bound', async () => {
  const child = spawn('head', ['-c', String(64 * 1024 * 1024), '/dev/zero'], { stdin: 'ignore' })
  const first = await new Promise((resolve) => child.stdout.once('data', resolve))
  assert.ok(first.length > 0 && first.length <= 1024 * 1024)
  child.stdout.pause()
  await new Promise((r) => setTimeout(r, 200))
  // Paused: the child is blocked on a full pipe, not finished.
  assert.equal(stat(child.pid)?.[0] === 'Z' || stat(child.pid) === undefined, false)
  assert.ok(child.stdout.readableLength <= 2 * 1024 * 1024, `${child.stdout.readableLength} buffered`)
  let total = first.length
  child.stdout.on('data', (c) => { total += c.length })
  const ended = new Promise((resolve) => child.stdout.once('end', resolve))
  child.stdout.resume()
  const r = await child.exited
  await ended
  assert.equal(total, 64 * 1024 * 1024)
  assert.equal(r.exitCode, 0)
})

test('lines() splits on LF and CRLF across chunk boundaries, stderr too', async () => {
  const script = 'printf "a\\r\\nb"; sleep 0.05; printf "c\\n\\nd"; printf "e1\\ne2\\n" >&2'
  const child = spawn('sh', ['-c', script])
  const [out, err] = await Promise.all([
    collect(child.lines()),
    collect(child.lines('stderr')),
  ])
  assert.deepEqual(out, ['a', 'bc', '', 'd'])
  assert.deepEqual(err, ['e1', 'e2'])
  assert.equal((await child.exited).exitCode, 0)
  assert.throws(() => child.lines('stdin'), { code: 'ERR_INVALID_ARG_VALUE' })
  const quiet = spawn('true', [], { stdout: 'ignore' })
  assert.equal(quiet.stdout, null)
  assert.throws(() => quiet.lines(), { code: 'ERR_INVALID_ARG_VALUE', message: /not piped/ })
  await quiet.exited
})

test('kill() takes down a tree that ignores SIGTERM after forceKillAfter', async () => {
  const child = spawn('sh', ['-c', 'trap "" TERM; sh -c \'trap "" TERM; sleep 1000\' & echo $!; sleep 1000'], { forceKillAfter: 300 })
  const [line] = await child.lines().next().then((r) => [r.value])
  const grandchild = Number(line)
  const start = Date.now()
  assert.equal(child.kill(), true)
  const err = await child.exited.catch((e) => e)
  assert.ok(err instanceof SubprocessError)
  assert.equal(err.code, 'ERR_OFFLOAD_EXIT')
  assert.equal(err.signal, 'SIGKILL')
  assert.equal(err.killed, true)
  assert.ok(Date.now() - start >= 250)
  assert.ok(await dies(grandchild), 'grandchild survived')
  assert.equal(child.kill(), false, 'kill after exit reports false')
})

test('kill() with a signal, pid and reject: false', async () => {
  const child = spawn('sleep', ['1000'], { reject: false })
  while (child.pid === undefined) await new Promise((r) => setImmediate(r))
  // The pid is known once the vfork parent is released, inside execve: the new program's
  // arguments reach /proc a moment later.
  await until(() => fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8') !== '', 'the child to finish execve')
  assert.match(fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /^sleep\0/)
  assert.equal(child.kill('SIGINT'), true)
  const r = await child.exited
  assert.equal(r.signal, 'SIGINT')
  assert.equal(r.exitCode, null)
  assert.throws(() => child.kill('SIGNOPE'), { name: 'TypeError', code: 'ERR_UNKNOWN_SIGNAL' })
  assert.throws(() => child.kill({}), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('a queued child can be killed before it starts', async () => {
  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const running = spawn('sleep', ['0.2'], { supervisor })
  const queued = spawn('sleep', ['1000'], { supervisor })
  assert.equal(queued.pid, undefined)
  assert.equal(queued.kill(), true)
  const err = await queued.exited.catch((e) => e)
  assert.equal(err.pid, undefined)
  assert.equal(err.killed, true)
  assert.equal(err.code, 'ERR_OFFLOAD_CANCELLED')
  await running.exited
  assert.equal(supervisor.stats().spawned, 1)
})

test('writing to a child that stopped reading is not an error', async () => {
  const child = spawn('true')
  let errored = null
  child.stdin.on('error', (e) => { errored = e })
  await child.exited
  child.stdin.write(Buffer.alloc(1024 * 1024))
  await new Promise((resolve) => child.stdin.end(resolve))
  assert.equal(errored, null)
})

test('exited never becomes an unhandled rejection on its own', async () => {
  const unhandled = []
  const onUnhandled = (e) => unhandled.push(e)
  process.on('unhandledRejection', onUnhandled)
  try {
    const child = spawn('false', [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' })
    // Wait, without attaching a handler, until `exited` has rejected; Node reports unhandled
    // rejections once the microtasks of that turn have run, so one more turn is enough.
    await until(() => inspect(child.exited).includes('<rejected>'), 'exited to reject')
    await new Promise((resolve) => setImmediate(resolve))
    await assert.rejects(child.exited, { code: 'ERR_OFFLOAD_EXIT', exitCode: 1 })
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
  assert.deepEqual(unhandled, [])
})

test('Symbol.asyncDispose (await using) kills the child and waits for it', async () => {
  // Node 20 has no `await using` syntax; call the disposer as it would.
  const child = spawn('sleep', ['1000'])
  while (child.pid === undefined) await new Promise((r) => setImmediate(r))
  await child[Symbol.asyncDispose]()
  assert.ok(await dies(child.pid))
  assert.equal((await child.exited.catch((e) => e)).signal, 'SIGTERM')
})

test('bad arguments throw synchronously with Node-style codes', () => {
  const cases = [
    [() => spawn(42), TypeError, 'ERR_INVALID_ARG_TYPE', /"file" argument must be of type string\. Received type number/],
    [() => spawn(''), TypeError, 'ERR_INVALID_ARG_VALUE', /'file'.*empty/],
    [() => spawn('echo', 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"args" argument must be an instance of Array/],
    [() => spawn('echo', ['a', 3]), TypeError, 'ERR_INVALID_ARG_TYPE', /"args\[1\]" argument must be of type string/],
    [() => spawn('echo', ['a\0b']), TypeError, 'ERR_INVALID_ARG_VALUE', /'args\[0\]'.*null bytes/],
    [() => spawn('ec\0ho'), TypeError, 'ERR_INVALID_ARG_VALUE', /'file'.*null bytes/],
    [() => spawn('echo', [], 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"options" argument/],
    [() => spawn('echo', [], { timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE', /"options.timeout".*Received -1/],
    [() => spawn('echo', [], { timeout: '5' }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.timeout" property must be of type number/],
    [() => spawn('echo', [], { forceKillAfter: -5 }), RangeError, 'ERR_OUT_OF_RANGE', /forceKillAfter/],
    [() => spawn('echo', [], { maxBuffer: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE', /maxBuffer/],
    [() => spawn('echo', [], { killSignal: 'SIGNOPE' }), TypeError, 'ERR_UNKNOWN_SIGNAL', /SIGNOPE/],
    [() => spawn('echo', [], { killSignal: 99 }), TypeError, 'ERR_UNKNOWN_SIGNAL', /99/],
    [() => spawn('echo', [], { stdout: 'file' }), TypeError, 'ERR_INVALID_ARG_VALUE', /'options.stdout'.*'file'/],
    [() => spawn('echo', [], { stdin: 'ignore', input: 'x' }), TypeError, 'ERR_INVALID_ARG_VALUE', /'input' needs stdin/],
    [() => spawn('echo', [], { encoding: 'hex' }), TypeError, 'ERR_INVALID_ARG_VALUE', /'options.encoding'/],
    [() => spawn('echo', [], { env: 'A=1' }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.env" property/],
    [() => spawn('echo', [], { env: { 'A=B': '1' } }), TypeError, 'ERR_INVALID_ARG_VALUE', /options\.env\['A=B'\]/],
    [() => spawn('echo', [], { cwd: 5 }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.cwd"/],
    [() => spawn('echo', [], { input: 5 }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.input"/],
    [() => spawn('echo', [], { limits: { cpuSeconds: -1 } }), RangeError, 'ERR_OUT_OF_RANGE', /options.limits.cpuSeconds/],
    [() => spawn('echo', [], { limits: { openFiles: '5' } }), TypeError, 'ERR_INVALID_ARG_TYPE', /options.limits.openFiles/],
    [() => spawn('echo', [], { shell: 1 }), TypeError, 'ERR_INVALID_ARG_TYPE', /options.shell/],
    [() => spawn('echo', [], { signal: {} }), TypeError, 'ERR_INVALID_ARG_TYPE', /options.signal/],
    [() => spawn('echo', [], { supervisor: {} }), TypeError, 'ERR_INVALID_ARG_TYPE', /options.supervisor/],
    [() => new Supervisor({ maxConcurrent: 0 }), RangeError, 'ERR_OUT_OF_RANGE', /maxConcurrent/],
    [() => new Supervisor({ maxQueue: -1 }), RangeError, 'ERR_OUT_OF_RANGE', /maxQueue/],
    [() => new Supervisor({ maxQueue: '1' }), TypeError, 'ERR_INVALID_ARG_TYPE', /maxQueue/],
  ]
  for (const [fn, Class, code, message] of cases) {
    assert.throws(fn, (err) => {
      assert.ok(err instanceof Class, `${fn}: ${err}`)
      assert.equal(err.code, code, `${fn}`)
      assert.match(err.message, message)
      return true
    })
  }
})

test('exec rejects (never throws) on bad arguments', async () => {
  const { exec } = require('..')
  await assert.rejects(exec(42), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(exec('echo', [], { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(exec('echo', ['\0']), { code: 'ERR_INVALID_ARG_VALUE' })
})

test('breaking out of a stream closes the pipe, so a writer child ends', async () => {
  const child = spawn('yes', [], { stdin: 'ignore' })
  for await (const chunk of child.stdout) {
    assert.ok(chunk.length > 0)
    break
  }
  const err = await child.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGPIPE')
  const lines = spawn('sh', ['-c', 'while :; do echo line; done'], { stdin: 'ignore' })
  for await (const line of lines.lines()) {
    assert.equal(line, 'line')
    break
  }
  assert.equal((await lines.exited.catch((e) => e)).code, 'ERR_OFFLOAD_EXIT')
})

test('non-stopping signals are delivered without escalation or withdrawal', async () => {
  const child = spawn('sh', ['-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.05; done'], { forceKillAfter: 100 })
  const lines = child.lines()
  assert.equal((await lines.next()).value, 'ready') // the trap is installed
  assert.equal(child.kill('SIGUSR1'), true)
  assert.equal((await lines.next()).value, 'got-usr1')
  // Well past forceKillAfter, it is still running: no escalation followed.
  assert.equal(await dies(child.pid, 400), false, 'SIGUSR1 escalated to SIGKILL')
  assert.equal(child.kill(), true)
  assert.equal((await child.exited.catch((e) => e)).signal, 'SIGTERM')

  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const first = spawn('sleep', ['0.2'], { supervisor })
  const queued = spawn('echo', ['ran'], { supervisor, stdin: 'ignore' })
  assert.equal(queued.kill('SIGUSR1'), false, 'nothing to deliver to while queued')
  const out = collect(queued.lines())
  assert.equal((await queued.exited).exitCode, 0)
  assert.deepEqual(await out, ['ran'])
  await first.exited
})

test('a queued child killed before it starts rejects with ERR_OFFLOAD_CANCELLED', async () => {
  const supervisor = new Supervisor({ maxConcurrent: 1 })
  const first = spawn('sleep', ['0.2'], { supervisor })
  const queued = spawn('true', [], { supervisor })
  assert.equal(queued.kill(), true)
  const err = await queued.exited.catch((e) => e)
  assert.equal(err.code, 'ERR_OFFLOAD_CANCELLED')
  assert.match(err.message, /killed before it started/)
  await first.exited
})

test('destroying a stream before the child starts still closes its pipe', async () => {
  const child = spawn('head', ['-c', String(8 * 1024 * 1024), '/dev/zero'], { stdin: 'ignore' })
  child.stdout.destroy()
  const err = await child.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGPIPE')
})

test('killTree: false signals only the child, which stays in this process group; its own child lives on', async (t) => {
  // The grandchild's output goes elsewhere, so it holds no pipe of the call open (a process
  // holding one keeps a stream, and this process, waiting for its end).
  const script = 'sleep 1000 >/dev/null 2>&1 & echo $!; exec sleep 1000'
  const child = spawn('sh', ['-c', script], { killTree: false, stdin: 'ignore' })
  t.after(() => child.kill('SIGKILL'))
  const grandchild = Number((await child.lines().next()).value)
  t.after(() => process.kill(grandchild, 'SIGKILL'))
  assert.equal(pgid(child.pid), pgid(process.pid), 'not a group of its own')
  assert.equal(pgid(grandchild), pgid(process.pid))
  assert.equal(child.kill(), true)
  const err = await child.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGTERM')
  assert.equal(err.killed, true)
  // The child is reaped; its own child was left alone, by the kill and by the exit.
  assert.equal(await dies(grandchild, 500), false, 'the grandchild was killed with the child')
  assert.equal(stat(grandchild)[0] === 'Z', false)

  // The default, for contrast: the same tree leads its own group, and goes down whole.
  const tree = spawn('sh', ['-c', script], { stdin: 'ignore' })
  t.after(() => tree.kill('SIGKILL'))
  const inTree = Number((await tree.lines().next()).value)
  assert.equal(pgid(tree.pid), tree.pid)
  tree.kill()
  await tree.exited.catch(() => {})
  assert.ok(await dies(inTree), 'the default killTree left the grandchild')
})

test('forceKillAfter: Infinity never escalates: a child that traps SIGTERM keeps running', { timeout: 30_000 }, async (t) => {
  const child = spawn('sh', ['-c', 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.05; done'], { forceKillAfter: Infinity })
  t.after(() => child.kill('SIGKILL'))
  const lines = child.lines()
  assert.equal((await lines.next()).value, 'ready') // the trap is installed
  assert.equal(child.kill(), true)
  assert.equal((await lines.next()).value, 'got-term')
  // Past the default escalation (2 s after the signal), it is still there.
  assert.equal(await dies(child.pid, 2500), false, 'SIGKILLed despite forceKillAfter: Infinity')
  assert.equal(child.kill('SIGKILL'), true)
  const err = await child.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGKILL')
})

test('killSignal is the signal kill() sends, by name or by number', async (t) => {
  // The child reports the signal it got, from a trap installed before it says ready.
  const script = 'for s in INT TERM HUP USR1 USR2; do trap "echo got-$s; exit 0" $s; done; echo ready; while :; do sleep 0.05; done'
  for (const [killSignal, name] of [['SIGINT', 'INT'], ['SIGHUP', 'HUP'], [12, 'USR2']]) {
    const child = spawn('sh', ['-c', script], { killSignal })
    t.after(() => child.kill('SIGKILL'))
    const lines = child.lines()
    assert.equal((await lines.next()).value, 'ready')
    assert.equal(child.kill(), true)
    assert.equal((await lines.next()).value, `got-${name}`, `killSignal ${killSignal}`)
    const r = await child.exited
    assert.deepEqual([r.exitCode, r.killed], [0, true])
  }
  // Without a trap, the kernel's account of how it died names the same signal.
  const plain = spawn('sleep', ['1000'], { killSignal: 10 })
  t.after(() => plain.kill('SIGKILL'))
  await plain.spawned
  plain.kill()
  const err = await plain.exited.catch((e) => e)
  assert.equal(err.signal, 'SIGUSR1')
})

test('spawn() throws ERR_OFFLOAD_QUEUE_FULL synchronously once the supervisor queue is full', async (t) => {
  const supervisor = new Supervisor({ maxConcurrent: 1, maxQueue: 1 })
  const running = spawn('sleep', ['1000'], { supervisor, stdin: 'ignore' })
  t.after(() => running.kill('SIGKILL'))
  const queued = spawn('echo', ['queued'], { supervisor, stdin: 'ignore' })
  let refused
  assert.throws(() => { refused = spawn('echo', ['refused'], { supervisor }) }, (e) => {
    assert.ok(e instanceof OffloadError)
    assert.equal(e.code, 'ERR_OFFLOAD_QUEUE_FULL')
    return true
  })
  assert.equal(refused, undefined)
  const s = supervisor.stats()
  assert.deepEqual([s.running + s.queued, s.queued], [2, 1])
  await running.spawned // killed any sooner, it would never be spawned at all
  running.kill()
  await running.exited.catch(() => {})
  const out = collect(queued.lines())
  assert.equal((await queued.exited).exitCode, 0)
  assert.deepEqual(await out, ['queued'])
  // With room again, the same call is accepted.
  assert.equal((await spawn('true', [], { supervisor }).exited).exitCode, 0)
  assert.equal(supervisor.stats().spawned, 3)
})
