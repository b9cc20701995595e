'use strict'
// exec(): output, input, encodings, maxBuffer, timeouts and aborts over whole process trees,
// limits, spawn failures and admission. The real `sh` and node:child_process are the oracles.
const test = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { exec, Supervisor, SubprocessError, processStats } = require('..')
const { dies, descendantsGone, stat } = require('./helpers/proc')
const { until } = require('./helpers/until')

test('stdout, stderr and the exit code match the real sh', async () => {
  const script = 'printf "out\\nput\\n"; printf "to err" >&2; exit 7'
  const oracle = cp.spawnSync('sh', ['-c', script], { encoding: 'utf8' })
  const err = await exec('sh', ['-c', script]).then(() => assert.fail('resolved'), (e) => e)
  assert.ok(err instanceof SubprocessError)
  assert.equal(err.code, 'ERR_OFFLOAD_EXIT')
  assert.equal(err.exitCode, oracle.status)
  assert.equal(err.stdout, oracle.stdout.replace(/\n$/, ''))
  assert.equal(err.stderr, oracle.stderr)
  assert.equal(err.signal, null)
  assert.equal(err.failed, true)
  assert.match(err.message, /failed with exit code 7: sh -c 'printf .*\nto err$/s)
  const ok = await exec('sh', ['-c', script], { reject: false })
  assert.equal(ok.exitCode, 7)
  assert.equal(ok.stdout, 'out\nput')
})

test('arguments reach the program verbatim, never through a shell', async () => {
  const args = ['a b', '$HOME', '"q"', "it's", '*', '; rm -rf /', '']
  const began = performance.now()
  const r = await exec('printf', ['%s|', ...args])
  const elapsed = performance.now() - began
  assert.equal(r.stdout, `${args.join('|')}|`)
  assert.equal(r.command, "printf '%s|' 'a b' '$HOME' '\"q\"' 'it'\\''s' '*' '; rm -rf /' ''")
  assert.equal(r.exitCode, 0)
  assert.equal(typeof r.pid, 'number')
  // From spawn to exit: within the call's own span.
  assert.ok(r.durationMs > 0 && r.durationMs <= elapsed, `durationMs ${r.durationMs} of a ${elapsed} ms call`)
})

test('shell is opt-in, and a shell path may be given', async () => {
  assert.equal((await exec('echo $((6 * 7))', { shell: true })).stdout, '42')
  assert.equal((await exec('echo', ['$((6 * 7))'])).stdout, '$((6 * 7))')
  assert.equal((await exec('echo', ['$0'], { shell: '/bin/sh' })).stdout, '/bin/sh')
})

test('env extends process.env unless extendEnv is false; cwd applies', async () => {
  process.env.OFFLOAD_TEST_PARENT = 'parent'
  try {
    const script = 'echo "$OFFLOAD_TEST_PARENT|$OFFLOAD_X|$N"; pwd'
    const r = await exec('sh', ['-c', script], { env: { OFFLOAD_X: 'x y', N: 5, SKIP: undefined }, cwd: os.tmpdir() })
    assert.equal(r.stdout, `parent|x y|5\n${fs.realpathSync(os.tmpdir())}`)
    const bare = await exec('/usr/bin/env', [], { env: { ONLY: '1' }, extendEnv: false })
    assert.equal(bare.stdout, 'ONLY=1')
    const url = await exec('pwd', { cwd: new URL('file:///') })
    assert.equal(url.stdout, '/')
  } finally {
    delete process.env.OFFLOAD_TEST_PARENT
  }
})

test('input is written to stdin and closed; without it stdin is /dev/null', async () => {
  assert.equal((await exec('cat', { input: 'from a string\n' })).stdout, 'from a string')
  const data = Buffer.alloc(3 * 1024 * 1024 + 17)
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff
  const view = new Uint16Array(data.buffer, data.byteOffset, 8)
  const r = await exec('cat', { input: data, encoding: 'buffer', stripFinalNewline: false })
  assert.ok(Buffer.isBuffer(r.stdout))
  assert.ok(r.stdout.equals(data))
  assert.ok((await exec('cat', { input: view, encoding: 'buffer' })).stdout.equals(Buffer.from(view.buffer, view.byteOffset, 16)))
  // Without input, cat reads /dev/null and ends at once instead of waiting for a terminal.
  assert.equal((await exec('cat')).stdout, '')
  // A child that never reads its input is fine too (EPIPE is swallowed).
  assert.equal((await exec('true', { input: Buffer.alloc(4 * 1024 * 1024) })).exitCode, 0)
})

test('encoding and stripFinalNewline', async () => {
  const bytes = Buffer.from([0x68, 0xc3, 0xa9, 0xff, 0x0a, 0x0a])
  const text = await exec('cat', { input: bytes })
  assert.equal(text.stdout, bytes.toString('utf8').slice(0, -1)) // one newline stripped, U+FFFD for 0xff
  const kept = await exec('cat', { input: bytes, stripFinalNewline: false })
  assert.equal(kept.stdout, bytes.toString('utf8'))
  const crlf = await exec('printf', ['a\r\n'])
  assert.equal(crlf.stdout, 'a')
  const buf = await exec('cat', { input: bytes, encoding: 'buffer' })
  assert.ok(buf.stdout.equals(bytes.subarray(0, 5)))
  assert.ok(Buffer.isBuffer(buf.stderr) && buf.stderr.length === 0)
  const ignored = await exec('echo', ['x'], { stdout: 'ignore' })
  assert.equal(ignored.stdout, undefined)
})

test('large text output (external strings) matches the bytes decoded by Node', async () => {
  for (const line of ['plain ascii line', 'héllo wörld ✓ 𝄞']) {
    const script = `yes '${line}' | head -c 3000001`
    const expected = cp.execFileSync('sh', ['-c', script], { maxBuffer: 1 << 25 }).toString('utf8')
    const r = await exec('sh', ['-c', script], { stripFinalNewline: false })
    assert.equal(r.stdout.length, expected.length)
    assert.ok(r.stdout === expected, line)
  }
})

test('maxBuffer kills the child and rejects with the truncated output', async () => {
  const err = await exec('sh', ['-c', 'head -c 1000000 /dev/zero; sleep 100'], { maxBuffer: 1000, encoding: 'buffer' })
    .then(() => assert.fail('resolved'), (e) => e)
  assert.equal(err.code, 'ERR_OFFLOAD_MAX_BUFFER')
  assert.match(err.message, /stdout exceeded maxBuffer \(1000 bytes\)/)
  assert.equal(err.stdout.length, 1000)
  assert.ok(err.stdout.equals(Buffer.alloc(1000)))
  assert.equal(err.killed, true)
  assert.equal(err.signal, 'SIGTERM')
  const stderr = await exec('sh', ['-c', 'echo 123456789 >&2'], { maxBuffer: 4 }).catch((e) => e)
  assert.equal(stderr.code, 'ERR_OFFLOAD_MAX_BUFFER')
  assert.equal(stderr.stderr, '1234')
})

test('a 256 MiB stdout is captured exactly', async () => {
  const size = 256 * 1024 * 1024
  const pattern = 'abcdefghijklmnop\n'
  const r = await exec('sh', ['-c', `yes abcdefghijklmnop | head -c ${size}`], {
    encoding: 'buffer', maxBuffer: size, stripFinalNewline: false,
  })
  assert.equal(r.stdout.length, size)
  assert.ok(r.stdout.equals(Buffer.alloc(size, pattern)))
})

// A shell ignoring SIGTERM with a child ignoring it too; it prints that child's pid, and also
// writes it to the file named by $0 once its own trap is in place.
const TREE = 'trap "" TERM; sh -c \'trap "" TERM; sleep 1000\' & echo $!; echo $! > "$0"; sleep 1000'

// A file in a fresh temporary directory, removed with the test.
function tmpFile(t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-exec-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, name)
}

// The number `file` holds once a writer has finished it (its line ended).
async function numberIn(file) {
  let text
  await until(() => { try { text = fs.readFileSync(file, 'utf8') } catch {} return text?.endsWith('\n') }, `${file} to be written`)
  return Number(text)
}

test('timeout escalates to SIGKILL on a tree that ignores SIGTERM', async () => {
  const start = Date.now()
  // The timeout leaves the shell ample time to install its trap, even on a loaded machine.
  const err = await exec('sh', ['-c', TREE, '/dev/null'], { timeout: 1000, forceKillAfter: 300 }).catch((e) => e)
  const took = Date.now() - start
  assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
  assert.match(err.message, /timed out after 1000 ms/)
  assert.equal(err.timedOut, true)
  assert.equal(err.signal, 'SIGKILL')
  assert.ok(took >= 1250 && took < 6000, `took ${took} ms`)
  assert.ok(await dies(Number(err.stdout)), `grandchild ${err.stdout} survived`)
})

test('abort kills the tree and rejects with an AbortError carrying the reason', async (t) => {
  const ready = tmpFile(t, 'grandchild')
  const ac = new AbortController()
  const reason = new Error('client went away')
  const pending = exec('sh', ['-c', TREE, ready], { signal: ac.signal, forceKillAfter: 200 })
  const grandchild = await numberIn(ready) // the traps are installed
  ac.abort(reason)
  const err = await pending.catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.code, 'ABORT_ERR')
  assert.equal(err.cause, reason)
  assert.equal(err.cancelled, true)
  assert.equal(err.signal, 'SIGKILL')
  assert.equal(Number(err.stdout), grandchild)
  assert.ok(await dies(grandchild), `grandchild ${grandchild} survived`)
})

test('a signal whose reason getter throws: the AbortError carries what it threw', async () => {
  const ac = new AbortController()
  const boom = new Error('reason getter')
  const pending = exec('sleep', ['10'], { signal: ac.signal })
  // The signal is the caller's object; reading it again at settle time must not escape.
  Object.defineProperty(ac.signal, 'reason', { get() { throw boom } })
  ac.abort()
  const err = await pending.catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause, boom)
  assert.equal(err.cancelled, true)
})

test('an already-aborted signal rejects without starting the child', async () => {
  const marker = path.join(os.tmpdir(), `offload-aborted-${process.pid}`)
  const before = processStats().spawned
  const err = await exec('touch', [marker], { signal: AbortSignal.abort('no') }).catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause, 'no')
  assert.equal(err.pid, undefined)
  assert.equal(processStats().spawned, before)
  assert.equal(fs.existsSync(marker), false)
})

test('the child’s own exit does not wait for grandchildren holding its pipes', async () => {
  const start = Date.now()
  const r = await exec('sh', ['-c', 'sleep 1000 & echo $!'])
  assert.ok(Date.now() - start < 5000)
  assert.ok(await dies(Number(r.stdout)), 'the group was not cleaned up')
})

test('a missing or non-executable program rejects with ENOENT / EACCES', async () => {
  const missing = await exec('offload-no-such-program', ['a']).catch((e) => e)
  assert.ok(missing instanceof SubprocessError)
  assert.equal(missing.code, 'ENOENT')
  assert.equal(missing.syscall, 'spawn offload-no-such-program')
  assert.equal(missing.path, 'offload-no-such-program')
  assert.deepEqual(missing.spawnargs, ['a'])
  // Node's wording; the server's PATH stays out of a message apps echo to clients.
  assert.equal(missing.message, 'spawn offload-no-such-program ENOENT')
  assert.deepEqual(missing.searchedPath, process.env.PATH.split(':'))
  const absent = await exec('/nonexistent/prog').catch((e) => e)
  assert.equal(absent.code, 'ENOENT')
  const file = path.join(os.tmpdir(), `offload-noexec-${process.pid}`)
  fs.writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 })
  try {
    const denied = await exec(file).catch((e) => e)
    assert.equal(denied.code, 'EACCES')
    assert.match(denied.message, /permission denied/)
  } finally {
    fs.rmSync(file)
  }
})

test('limits apply in the child and a limit kill is named', async () => {
  const r = await exec('sh', ['-c', 'ulimit -n; ulimit -v'], { limits: { openFiles: 64, memoryBytes: 512 * 1024 * 1024 } })
  assert.equal(r.stdout, `64\n${512 * 1024}`)
  const cpu = await exec('sh', ['-c', 'while :; do :; done'], { limits: { cpuSeconds: 1 } }).catch((e) => e)
  assert.equal(cpu.code, 'ERR_OFFLOAD_LIMIT')
  assert.equal(cpu.killedByLimit, 'cpuSeconds')
  assert.equal(cpu.signal, 'SIGXCPU')
  assert.match(cpu.message, /cpuSeconds limit/)
  const file = path.join(os.tmpdir(), `offload-fsize-${process.pid}`)
  try {
    const big = await exec('dd', ['if=/dev/zero', `of=${file}`, 'bs=1000', 'count=100'], { limits: { fileSizeBytes: 4096 } }).catch((e) => e)
    assert.equal(big.killedByLimit, 'fileSizeBytes')
    assert.equal(big.signal, 'SIGXFSZ')
    assert.equal(fs.statSync(file).size, 4096)
    // Behind a shell, the signal shows as exit code 128 + SIGXFSZ.
    const shell = await exec('sh', ['-c', `head -c 100000 /dev/zero > ${file}; exit $?`], { limits: { fileSizeBytes: 4096 } }).catch((e) => e)
    assert.equal(shell.killedByLimit, 'fileSizeBytes')
  } finally {
    fs.rmSync(file, { force: true })
  }
  const mem = await exec(process.execPath, ['-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'], {
    limits: { memoryBytes: 2 * 1024 * 1024 * 1024 }, reject: false,
  })
  assert.equal(mem.killedByLimit, 'memoryBytes', `${mem.signal} ${mem.exitCode} ${mem.stderr.slice(-300)}`)
})

test('a supervisor bounds running and queued children', async () => {
  const supervisor = new Supervisor({ maxConcurrent: 1, maxQueue: 1 })
  assert.equal(supervisor.maxConcurrent, 1)
  assert.equal(supervisor.maxQueue, 1)
  const first = exec('sleep', ['0.3'], { supervisor })
  const second = exec('echo', ['second'], { supervisor })
  const third = await exec('echo', ['third'], { supervisor }).catch((e) => e)
  assert.equal(third.code, 'ERR_OFFLOAD_QUEUE_FULL')
  assert.equal(third.name, 'OffloadError')
  const s = supervisor.stats()
  assert.equal(s.running + s.queued, 2)
  assert.equal(s.queued, 1)
  await first
  assert.equal((await second).stdout, 'second')
  const after = supervisor.stats()
  assert.deepEqual([after.running, after.queued, after.spawned, after.exited], [0, 0, 2, 2])
  assert.equal(new Supervisor({ maxQueue: Infinity }).maxQueue, Infinity)
  assert.equal(new Supervisor().maxConcurrent, 4 * os.availableParallelism())
})

test('processStats counts across supervisors', async () => {
  const before = processStats()
  await exec('true')
  await exec('false').catch(() => {})
  await exec('offload-no-such-program').catch(() => {})
  await exec('sleep', ['10'], { timeout: 50 }).catch(() => {})
  const after = processStats()
  assert.equal(after.spawned - before.spawned, 3)
  assert.equal(after.exited - before.exited, 3)
  assert.equal(after.failed - before.failed, 3)
  assert.equal(after.spawnErrors - before.spawnErrors, 1)
  assert.equal(after.timedOut - before.timedOut, 1)
  assert.equal(after.killed - before.killed, 1)
  assert.equal(after.running, 0)
  assert.ok(await descendantsGone(), 'a child was left behind')
})

test('inherited stdio reaches the child even though Node holds its own close-on-exec', () => {
  const script = `require(${JSON.stringify(path.join(__dirname, '..'))})
    .exec('sh', ['-c', 'echo to-out; echo to-err >&2; cat'], { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit' })
    .then((r) => console.log('code', r.exitCode, r.stdout))`
  const r = cp.spawnSync(process.execPath, ['-e', script], { input: 'from-stdin\n', encoding: 'utf8' })
  assert.equal(r.stdout, 'to-out\nfrom-stdin\ncode 0 undefined\n')
  assert.equal(r.stderr, 'to-err\n')
})

// Starts a process that leaves the child's group (setsid) holding its stdout, and writes its
// pid to the file named by $1 once it has left; the child then writes its own pid to $2.
const ESCAPE = 'setsid sh -c \'echo $$ > "$0"; exec sleep 30\' "$1" & while [ ! -s "$1" ]; do sleep 0.01; done; echo $$ > "$2"'

test('a timeout is not held up by a process that escaped the group and keeps the pipe open', async (t) => {
  const escapedFile = tmpFile(t, 'escaped')
  const start = Date.now()
  const pending = exec('sh', ['-c', `${ESCAPE}; sleep 100`, 'sh', escapedFile, '/dev/null'], { timeout: 2000 }).catch((e) => e)
  const escaped = await numberIn(escapedFile)
  t.after(() => process.kill(escaped, 'SIGKILL'))
  const err = await pending
  assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
  // Not the 30 s the escaped process holds the pipe for.
  assert.ok(Date.now() - start < 6000, `took ${Date.now() - start} ms`)
  assert.ok(stat(escaped) !== undefined && stat(escaped)[0] !== 'Z', 'the escaped process was killed: nothing held the pipe')
})

test('an abort ends the wait for output held open by an escaped process', async (t) => {
  const [escapedFile, childFile] = [tmpFile(t, 'escaped'), tmpFile(t, 'child')]
  const ac = new AbortController()
  const pending = exec('sh', ['-c', ESCAPE, 'sh', escapedFile, childFile], { signal: ac.signal })
  const escaped = await numberIn(escapedFile)
  t.after(() => process.kill(escaped, 'SIGKILL'))
  // The child itself has exited; only the escaped process holds its output open.
  assert.ok(await dies(await numberIn(childFile)), 'the child did not exit')
  const start = Date.now()
  ac.abort()
  const err = await pending.catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.exitCode, 0, 'the child itself had exited')
  assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms`)
  assert.ok(stat(escaped) !== undefined && stat(escaped)[0] !== 'Z', 'the escaped process was killed: nothing held the pipe')
})

test('exec with stdin: pipe and no input gives the child end of file', async () => {
  const r = await exec('cat', { stdin: 'pipe', timeout: 5000 })
  assert.equal(r.stdout, '')
  assert.equal(r.timedOut, false)
})

test('an already-aborted call does not wait for a queue slot', async () => {
  const supervisor = new Supervisor({ maxConcurrent: 1, maxQueue: 0 })
  const running = exec('sleep', ['1'], { supervisor })
  const start = Date.now()
  const err = await exec('true', { supervisor, signal: AbortSignal.abort() }).catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.ok(Date.now() - start < 500, `took ${Date.now() - start} ms`)
  await running
})

test('spawn failures name their cause: cwd, limits', async () => {
  const cwd = await exec('ls', { cwd: '/nonexistent-offload-dir' }).catch((e) => e)
  assert.equal(cwd.code, 'ENOENT')
  assert.match(cwd.message, /cwd "\/nonexistent-offload-dir": No such file or directory/)
  const limit = await exec('true', { limits: { openFiles: 1e12 } }).catch((e) => e)
  assert.equal(limit.code, 'ERR_OFFLOAD_SPAWN')
  assert.match(limit.message, /openFiles limit/)
})

test('maxBuffer on one stream still drains the other after the child exits', async () => {
  const err = await exec('sh', ['-c', 'echo the-error >&2; head -c 5000 /dev/zero'], { maxBuffer: 100 }).catch((e) => e)
  assert.equal(err.code, 'ERR_OFFLOAD_MAX_BUFFER')
  assert.equal(err.stdout.length, 100)
  assert.equal(err.stderr, 'the-error')
})

test('a large binary capture matches the bytes, also when cut by maxBuffer', async () => {
  const size = 9 * 1024 * 1024 + 3
  const script = `yes 0123456789abcdef | head -c ${size}`
  const expected = cp.execFileSync('sh', ['-c', script], { maxBuffer: 1 << 25 })
  const r = await exec('sh', ['-c', script], { encoding: 'buffer', stripFinalNewline: false })
  assert.ok(r.stdout.equals(expected))
  const cut = await exec('sh', ['-c', script], { encoding: 'buffer', maxBuffer: 6 * 1024 * 1024 + 1 }).catch((e) => e)
  assert.equal(cut.code, 'ERR_OFFLOAD_MAX_BUFFER')
  assert.ok(cut.stdout.equals(expected.subarray(0, 6 * 1024 * 1024 + 1)))
  const text = await exec('sh', ['-c', script], { stripFinalNewline: false })
  assert.equal(text.stdout, expected.toString('latin1'))
})

test('rusage reports a child peak above this process, and CPU time', async () => {
  // The child must peak above this process's own peak (earlier tests raised it), or the
  // kernel's figure could be ours and is withheld.
  const ownPeak = process.resourceUsage().maxRSS * 1024
  const size = ownPeak + 200 * 1024 * 1024
  const r = await exec(process.execPath, ['-e', `const b = Buffer.alloc(${size}, 1); console.log(b.length)`])
  assert.equal(r.stdout, String(size))
  // At least the Buffer; at most the Buffer and a Node runtime (about 50 MiB here).
  assert.ok(r.rusage.maxRssBytes >= size, `maxRssBytes ${r.rusage.maxRssBytes} < ${size}`)
  assert.ok(r.rusage.maxRssBytes < size + 200 * 1024 * 1024, `maxRssBytes ${r.rusage.maxRssBytes} for a ${size}-byte Buffer`)
  assert.ok(processStats().maxRssBytes >= r.rusage.maxRssBytes)
  // `true` peaks far below this process: the kernel's figure is ours, so it is withheld.
  const small = await exec('true')
  assert.equal(small.rusage.maxRssBytes, null)
  // CPU time against the child's own account: `times` prints the shell's user and system time
  // at its end (in 10 ms ticks, rounded down); the result adds the little it spends exiting.
  const loop = await exec('sh', ['-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; times'])
  const [user, system] = loop.stdout.split('\n')[0].split(' ').map((t) => {
    const [, min, sec] = /^(\d+)m([\d.]+)s$/.exec(t)
    return Number(min) * 60_000 + Math.round(Number(sec) * 1e6) / 1e3
  })
  assert.ok(user >= 100, `the loop took only ${user} ms: ${loop.stdout}`)
  const { userCpuMs, systemCpuMs } = loop.rusage
  assert.ok(userCpuMs >= user && userCpuMs < user + 50, `userCpuMs ${userCpuMs}; the shell said ${loop.stdout}`)
  assert.ok(systemCpuMs >= system && systemCpuMs < system + 50, `systemCpuMs ${systemCpuMs}; the shell said ${loop.stdout}`)
  const idle = await exec('sleep', ['0.3'])
  assert.ok(idle.rusage.userCpuMs + idle.rusage.systemCpuMs < 100, JSON.stringify(idle.rusage))
  assert.ok(idle.durationMs >= 300, `${idle.durationMs}`)
})

test('killSignal is the signal sent on timeout, abort and maxBuffer', async (t) => {
  // Nothing traps it: the kernel's account of how each child died names the signal sent.
  const timedOut = await exec('sleep', ['100'], { timeout: 50, killSignal: 'SIGHUP' }).catch((e) => e)
  assert.deepEqual([timedOut.code, timedOut.signal], ['ERR_OFFLOAD_TIMEOUT', 'SIGHUP'])
  // Aborted once it runs (a child aborted while it is being spawned never gets a signal).
  const started = tmpFile(t, 'started')
  const ac = new AbortController()
  const pending = exec('sh', ['-c', 'echo > "$0"; exec sleep 100', started], { signal: ac.signal, killSignal: 12 })
  await until(() => fs.existsSync(started), 'the child to start')
  ac.abort()
  const aborted = await pending.catch((e) => e)
  assert.deepEqual([aborted.name, aborted.signal], ['AbortError', 'SIGUSR2'])
  const over = await exec('yes', { maxBuffer: 1000, killSignal: 'SIGINT' }).catch((e) => e)
  assert.deepEqual([over.code, over.signal], ['ERR_OFFLOAD_MAX_BUFFER', 'SIGINT'])
})

// Processes (zombies included) whose real user is `uid`.
function processesOf(uid) {
  let n = 0
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${name}/status`, 'utf8'))[1]) === uid) n++
    } catch {} // gone meanwhile
  }
  return n
}

const root = process.getuid() === 0
const hasSetpriv = fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv')

test('limits.processes: the child cannot start processes past the limit', { skip: root && !hasSetpriv && 'needs setpriv to leave root' }, async () => {
  // Each `sleep &` is a fork of the shell; the count is printed after each one that worked, and
  // a fork refused (EAGAIN) ends the shell ("Cannot fork", exit code 2).
  const forks = 'i=0; while [ $i -lt 10 ]; do sleep 5 & i=$((i+1)); echo $i; done'
  // RLIMIT_NPROC counts every process (and thread) of the user, and root is exempt. As root,
  // the shell runs as a user of its own (setpriv, after the limit is set), whose only process
  // it is; otherwise this user already has more processes than a limit of 1.
  const uid = 61234
  const command = root ? ['setpriv', ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', 'sh', '-c', forks]] : ['sh', ['-c', forks]]
  const limit = root ? 4 : 1
  const free = await exec(...command, { reject: false })
  assert.equal(free.stdout, '1\n2\n3\n4\n5\n6\n7\n8\n9\n10', `the oracle, without a limit: ${free.stderr}`)
  // Its sleeps were killed with its group; they count until they are reaped.
  if (root) await until(() => processesOf(uid) === 0, `user ${uid}'s processes to be reaped`)
  const limited = await exec(...command, { limits: { processes: limit }, reject: false })
  // The shell counts against its own limit: limit - 1 more processes.
  const expected = Array.from({ length: limit - 1 }, (_, i) => String(i + 1)).join('\n')
  assert.equal(limited.stdout, expected, limited.stderr)
  assert.equal(limited.exitCode, 2)
  assert.match(limited.stderr, /Cannot fork/)
  const shown = await exec('cat', ['/proc/self/limits'], { limits: { processes: 4 } })
  assert.match(shown.stdout, /^Max processes\s+4\s+4\s+processes\s*$/m)
})
