'use strict'
// ThreadPool: values against structuredClone, errors as thrown, timeouts and aborts that end a
// spinning worker, crashes (exit, uncaught, out of memory) that fail only their own task,
// admission and priorities, close/destroy, start failures, ESM/CJS/file: URL scripts, a
// 200 000-task run where every promise settles with its own outcome, and a free event loop.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { ThreadPool, AbortError, OffloadError } = require('..')
const { maxLoopDelay } = require('./helpers/loop-delay')
const { within } = require('./helpers/until')

const WORKER = path.join(__dirname, 'fixtures', 'thread-worker.js')
const ESM = path.join(__dirname, 'fixtures', 'thread-worker.mjs')
const BROKEN = path.join(__dirname, 'fixtures', 'thread-broken.js')

async function withPool(options, fn) {
  const p = new ThreadPool({ script: WORKER, threads: 2, ...options })
  try {
    return await fn(p)
  } finally {
    await p.destroy()
  }
}

async function rejects(promise, code) {
  const err = await promise.then((v) => assert.fail(`expected a rejection, got ${v}`), (e) => e)
  assert.equal(err.code, code, `${err.code}: ${err.message}`)
  return err
}

// A handler `gate` holds its worker until open(); started(n) waits until n of them run.
let gates = 0
function gate() {
  const key = `offload-test-gate-${process.pid}-${gates++}`
  const bc = new BroadcastChannel(key)
  let count = 0
  let wake
  bc.onmessage = (e) => {
    if (e.data !== 'started') return
    count++
    wake?.()
  }
  return {
    key,
    async started(n) {
      while (count < n) await within(new Promise((resolve) => { wake = resolve }), 10_000, `gate ${n} started`)
    },
    open() {
      bc.postMessage('open')
      bc.close()
    },
    close: () => bc.close(),
  }
}

const osThreads = () => fs.readdirSync('/proc/self/task').length

test('values round-trip as structuredClone makes them; undefined and null; named handlers', async () => {
  await withPool(undefined, async (p) => {
    class Point {
      constructor() { this.x = 1 }
      get y() { return 2 }
    }
    const cyc = { a: 1, list: [] }
    cyc.self = cyc
    cyc.list.push(cyc, { back: cyc })
    const values = {
      map: new Map([[1, 'a'], ['k', { n: 2 }], [{ key: true }, [1]]]),
      set: new Set([1, 'x', 3n, { o: 1 }]),
      date: new Date(1e12),
      big: -(2n ** 70n),
      cyc,
      u8: new Uint8Array([1, 2, 255]),
      f64: new Float64Array([1.5, -0, NaN, Infinity]),
      i32: new Int32Array([-1, 2 ** 31 - 1]),
      ab: new Uint8Array([9, 8, 7]).buffer,
      nested: { a: [{ b: new Map([['s', new Set([new Date(0)])]]) }], deep: { deeper: { deepest: [null, true, 'x'] } } },
      re: /x+/gi,
      point: new Point(),
      sparse: [1, , 3],
      negZero: -0,
      text: 'héllo ✓ \u0000',
      boxed: new String('s'),
      error: new RangeError('as data'),
    }
    for (const [what, value] of Object.entries(values)) {
      const back = await p.run(value, { name: 'echo' })
      assert.deepEqual(back, structuredClone(value), what)
    }
    // Cycles come back as cycles, not copies.
    const c = await p.run(cyc, { name: 'echo' })
    assert.equal(c.self, c)
    assert.equal(c.list[1].back, c)
    // A Buffer stays a Buffer (structuredClone would make a Uint8Array), with the same bytes.
    const buf = await p.run({ buf: Buffer.from('bytes ✓') }, { name: 'echo' })
    assert.ok(Buffer.isBuffer(buf.buf))
    assert.deepEqual([...buf.buf], [...Buffer.from('bytes ✓')])
    assert.equal(await p.run(undefined, { name: 'echo' }), undefined)
    assert.equal(await p.run(null, { name: 'echo' }), null)
    assert.equal(await p.run(undefined, { name: 'threadId' }) > 0, true)
    assert.deepEqual(await p.run([undefined], { name: 'echo' }), [undefined])
    // An async handler.
    assert.deepEqual(await p.run({ v: 1n }, { name: 'later' }), { v: 1n })
    const unknown = await rejects(p.run(1, { name: 'nope' }), 'ERR_OFFLOAD_UNKNOWN_TASK')
    assert.match(unknown.message, /no task named "nope"/)
    await rejects(p.run(1), 'ERR_OFFLOAD_UNKNOWN_TASK') // no default handler in the map
  })
})

test('an uncloneable payload is refused at once; an uncloneable result fails its task with DataCloneError', async () => {
  await withPool({ threads: 1 }, async (p) => {
    for (const payload of [() => 1, { f() {} }, Symbol('s'), [new WeakMap()]]) {
      const err = await rejects(p.run(payload, { name: 'echo' }), 'ERR_INVALID_ARG_VALUE')
      assert.match(err.message, /payload/)
    }
    for (const kind of ['function', 'symbol']) {
      const err = await p.run(kind, { name: 'uncloneable' }).then(() => assert.fail('resolved'), (e) => e)
      assert.equal(err.name, 'DataCloneError', `${kind}: ${err.name}: ${err.message}`)
      assert.match(err.message, /could not be cloned/)
    }
    // Nothing reached a worker for the refused payloads, and the worker lives on.
    const s = p.stats()
    assert.deepEqual([s.submitted, s.completed, s.crashed], [2, 2, 0])
    assert.equal(await p.run('after', { name: 'echo' }), 'after')
  })
})

test('a thrown error keeps its class, name, message, code, own properties and stack; sync and async', async () => {
  await withPool(undefined, async (p) => {
    for (const name of ['fail', 'failAsync']) {
      for (const kind of ['TypeError', 'RangeError', 'SyntaxError', 'Error']) {
        const err = await rejects(p.run({ kind, message: `bad ${kind}`, code: 'E_BAD', props: { status: 422, detail: { raw: new Map([[1, 2n]]) } } }, { name }), 'E_BAD')
        assert.equal(Object.getPrototypeOf(err), globalThis[kind].prototype, `${name} ${kind}`)
        assert.equal(err.name, kind)
        assert.equal(err.message, `bad ${kind}`)
        assert.equal(err.status, 422)
        assert.deepEqual(err.detail, { raw: new Map([[1, 2n]]) })
        // The worker's stack: the handler's frame in the fixture.
        assert.match(err.stack, new RegExp(`${kind}: bad ${kind}\\n[\\s\\S]*thread-worker\\.js:\\d+`))
      }
    }
    // A class of the worker's own comes back as an Error with its name.
    const mine = await p.run({ kind: 'MyError', message: 'mine', props: { n: 1 } }, { name: 'fail' }).catch((e) => e)
    assert.ok(mine instanceof Error)
    assert.deepEqual([mine.name, mine.message, mine.n, mine.code], ['MyError', 'mine', 1, undefined])
    // A property or code that cannot be cloned is left out; the error is not lost.
    const odd = await rejects(p.run(false, { name: 'failOdd' }), 'E_ODD')
    assert.ok(odd instanceof RangeError)
    assert.deepEqual([odd.message, odd.keep, 'fn' in odd], ['odd', [1n], false])
    const oddCode = await p.run(true, { name: 'failOdd' }).catch((e) => e)
    assert.deepEqual([oddCode.name, oddCode.message, oddCode.code, oddCode.keep], ['RangeError', 'odd', undefined, [1n]])
    assert.equal(p.stats().crashed, 0)
  })
})

test('a timeout ends a handler spinning in a tight loop; a replacement worker serves the next task', async () => {
  // A long abortGrace: the timeout itself must end the worker, not the abort path's grace.
  await withPool({ threads: 1, abortGrace: 60_000 }, async (p) => {
    const before = await p.run(null, { name: 'threadId' })
    const started = Date.now()
    const err = await within(rejects(p.run(null, { name: 'spin', timeout: 200 }), 'ERR_OFFLOAD_TIMEOUT'), 5000, 'the timed-out task')
    assert.ok(err instanceof OffloadError)
    assert.ok(Date.now() - started >= 190, 'not before its timeout')
    const after = await within(p.run(null, { name: 'threadId' }), 10_000, 'a task after the timeout')
    assert.notEqual(after, before, 'the spinning worker was replaced')
    // A timeout that does not fire leaves the worker alone.
    assert.equal(await p.run('ok', { name: 'later', timeout: 5000 }), 'ok')
    assert.equal(await p.run(null, { name: 'threadId' }), after)
    // A queued task that times out leaves the queue; the running one is not touched.
    const g = gate()
    try {
      const held = p.run(g.key, { name: 'gate' })
      await g.started(1)
      await rejects(p.run(1, { name: 'echo', timeout: 50 }), 'ERR_OFFLOAD_TIMEOUT')
      g.open()
      assert.equal(await held, after)
    } finally {
      g.close()
    }
  })
})

test('a task taken before the pool has read its worker\'s ready message: timeout and crash still end it', async () => {
  // This thread stays busy (no message is read) until the new worker runs the task and the
  // timeout is due: the timer then fires before the worker's `ready` is read.
  const hold = (p, ms) => {
    const end = Date.now() + 10_000
    for (const due = Date.now() + ms; p.stats().running === 0 || Date.now() < due;) if (Date.now() > end) break
  }
  await withPool({ threads: 1, abortGrace: 60_000 }, async (p) => {
    const spin = p.run(null, { name: 'spin', timeout: 50 })
    hold(p, 100)
    await within(rejects(spin, 'ERR_OFFLOAD_TIMEOUT'), 5000, 'the timed-out task')
    assert.equal(await within(p.run('next', { name: 'echo' }), 10_000, 'the next task'), 'next')
  })
  await withPool({ threads: 1 }, async (p) => {
    const exit = p.run(3, { name: 'exit' })
    const behind = p.run('behind', { name: 'echo' })
    hold(p, 0)
    await within(rejects(exit, 'ERR_OFFLOAD_WORKER_CRASHED'), 5000, 'the crashed task')
    assert.equal(await within(behind, 10_000, 'the task behind it'), 'behind')
  })
})

test('abort: the handler sees its signal and the task rejects with AbortError caused by the reason', async () => {
  await withPool({ threads: 1 }, async (p) => {
    const before = await p.run(null, { name: 'threadId' })
    const ac = new AbortController()
    const task = p.run(null, { name: 'waitAbort', signal: ac.signal })
    // Wait until it runs: the worker parked nowhere else.
    while (p.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
    // A queued task aborted leaves the queue at once, with the same AbortError semantics.
    const queuedAc = new AbortController()
    const queued = p.run(null, { name: 'echo', signal: queuedAc.signal })
    queuedAc.abort('not needed')
    const queuedErr = await within(queued.catch((e) => e), 2000, 'the queued aborted task')
    assert.ok(queuedErr instanceof AbortError)
    assert.equal(queuedErr.cause, 'not needed')
    assert.equal(p.stats().cancelled, 1)
    const reason = new Error('the caller gave up')
    ac.abort(reason)
    const err = await within(task.catch((e) => e), 5000, 'the aborted task')
    assert.ok(err instanceof AbortError, `${err.name}: ${err.message}`)
    assert.equal(err.name, 'AbortError')
    assert.equal(err.cause, reason)
    // The handler itself saw the abort, and its worker was not terminated.
    assert.deepEqual(await p.run(null, { name: 'seenAborts' }), [{ aborted: true, reason: 'AbortError' }])
    assert.equal(await p.run(null, { name: 'threadId' }), before)
    // Already aborted: refused before it is queued.
    const pre = await p.run(null, { name: 'echo', signal: AbortSignal.abort('why') }).catch((e) => e)
    assert.ok(pre instanceof AbortError)
    assert.equal(pre.cause, 'why')
    assert.equal(p.stats().submitted, 5)
  })
})

test('a handler that ignores its abort past abortGrace has its worker terminated; the pool serves on', async () => {
  await withPool({ threads: 1, abortGrace: 150 }, async (p) => {
    const before = await p.run(null, { name: 'threadId' })
    const ac = new AbortController()
    const task = p.run(null, { name: 'spin', signal: ac.signal })
    while (p.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
    const aborted = Date.now()
    ac.abort('stop')
    const err = await within(task.catch((e) => e), 5000, 'the task ignoring its abort')
    assert.ok(err instanceof AbortError, `${err.name}: ${err.message}`)
    assert.equal(err.cause, 'stop')
    assert.ok(Date.now() - aborted >= 140, 'the grace period was given')
    assert.notEqual(await within(p.run(null, { name: 'threadId' }), 10_000, 'the next task'), before)
    assert.equal(p.stats().crashed, 1)
  })
})

for (const [what, name, options, why] of [
  ['process.exit()', 'exit', undefined, /\(exit code 3\)/],
  ['an uncaught exception from a timer', 'uncaught', undefined, /\(Error: uncaught in the worker\)/],
  ['an out-of-memory under resourceLimits', 'oom', { resourceLimits: { maxOldGenerationSizeMb: 16 } }, /memory limit/],
]) {
  test(`${what} fails only its own task with ERR_OFFLOAD_WORKER_CRASHED; the pool recovers`, async () => {
    await withPool(options, async (p) => {
      const g = gate()
      try {
        // One worker holds an in-flight task; the other crashes with tasks queued behind it.
        const held = p.run(g.key, { name: 'gate' })
        await g.started(1)
        const crashed = p.run(3, { name })
        const behind = [1, 2, 3].map((i) => p.run(i, { name: 'later' }))
        const err = await within(rejects(crashed, 'ERR_OFFLOAD_WORKER_CRASHED'), 30_000, 'the crashed task')
        assert.match(err.message, /died while running the task/)
        assert.match(err.message, why)
        assert.deepEqual(await within(Promise.all(behind), 30_000, 'the queued tasks'), [1, 2, 3])
        g.open()
        assert.equal(typeof (await held), 'number')
        const s = p.stats()
        assert.deepEqual([s.crashed, s.completed, s.threads], [1, 4, 2])
      } finally {
        g.close()
      }
    })
  })
}

test('maxQueue refuses at once with ERR_OFFLOAD_QUEUE_FULL while every thread is busy', async () => {
  await withPool({ threads: 2, maxQueue: 2 }, async (p) => {
    const g = gate()
    try {
      const held = [p.run(g.key, { name: 'gate' }), p.run(g.key, { name: 'gate' })]
      await g.started(2)
      const queued = [p.run('a', { name: 'echo' }), p.run('b', { name: 'echo' })]
      // Refused while the gates are still closed: admission does not wait for room.
      await within(rejects(p.run('c', { name: 'echo' }), 'ERR_OFFLOAD_QUEUE_FULL'), 2000, 'the refusal')
      await rejects(p.run('d', { name: 'echo', priority: 'high' }), 'ERR_OFFLOAD_QUEUE_FULL')
      assert.deepEqual([p.stats().queued, p.stats().rejected], [2, 2])
      g.open()
      assert.equal((await Promise.all(held)).length, 2)
      assert.deepEqual(await Promise.all(queued), ['a', 'b'])
      assert.equal(await p.run('e', { name: 'echo' }), 'e')
    } finally {
      g.close()
    }
  })
})

test('priorities: queued high runs before normal before low, FIFO within a level', async () => {
  await withPool({ threads: 1 }, async (p) => {
    const g = gate()
    try {
      const held = p.run(g.key, { name: 'gate' })
      await g.started(1)
      const order = []
      const plan = ['low', 'normal', 'high', 'low', 'high', 'normal', undefined, 'high', 'low']
      const tasks = plan.map((priority, i) => p.run(`${priority ?? 'normal'}${i}`, { name: 'echo', priority }).then((v) => order.push(v)))
      await rejects(p.run(1, { name: 'echo', priority: 'urgent' }), 'ERR_INVALID_ARG_VALUE')
      g.open()
      await held
      await Promise.all(tasks)
      assert.deepEqual(order, ['high2', 'high4', 'high7', 'normal1', 'normal5', 'normal6', 'low0', 'low3', 'low8'])
    } finally {
      g.close()
    }
  })
})

test('close() lets queued and running tasks finish, then refuses new ones and leaves no thread', async () => {
  const baseline = osThreads()
  const p = new ThreadPool({ script: WORKER, threads: 2 })
  const g = gate()
  try {
    const held = [p.run(g.key, { name: 'gate' }), p.run(g.key, { name: 'gate' })]
    await g.started(2)
    assert.ok(osThreads() >= baseline + 2)
    const queued = [1, 2, 3, 4].map((i) => p.run(i, { name: 'later' }))
    let closed = false
    const closing = p.close().then(() => { closed = true })
    await rejects(p.run(5, { name: 'echo' }), 'ERR_OFFLOAD_POOL_CLOSED')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(closed, false, 'close() waits for the tasks')
    g.open()
    assert.equal((await Promise.all(held)).length, 2)
    assert.deepEqual(await Promise.all(queued), [1, 2, 3, 4])
    await closing
    await rejects(p.run(6, { name: 'echo' }), 'ERR_OFFLOAD_POOL_CLOSED')
    assert.equal(osThreads(), baseline, 'the worker threads are gone')
    const s = p.stats()
    assert.deepEqual([s.threads, s.completed], [0, 6])
    assert.equal(p.close(), p.close(), 'close() is idempotent')
  } finally {
    g.close()
    await p.destroy()
  }
})

test('destroy() rejects queued and running tasks promptly, even a spinning handler, and leaves no thread', async () => {
  const baseline = osThreads()
  const p = new ThreadPool({ script: WORKER, threads: 2 })
  const running = [p.run(null, { name: 'spin' }), p.run(null, { name: 'spin' })]
  while (p.stats().running < 2) await new Promise((resolve) => setImmediate(resolve))
  const queued = [1, 2, 3].map((i) => p.run(i, { name: 'echo', priority: i === 2 ? 'high' : 'low' }))
  const outcomes = Promise.all([...running, ...queued].map((t) => t.then(() => 'resolved', (e) => e.code)))
  const started = Date.now()
  await within(p.destroy(), 5000, 'destroy()')
  const errors = await within(outcomes, 5000, 'the tasks')
  assert.deepEqual(errors, Array(5).fill('ERR_OFFLOAD_POOL_DESTROYED'))
  assert.ok(Date.now() - started < 5000)
  await rejects(p.run(1, { name: 'echo' }), 'ERR_OFFLOAD_POOL_CLOSED')
  assert.equal(osThreads(), baseline, 'the worker threads are gone')
  await p.close() // after destroy: settles
})

test('a script that throws at load fails tasks with ERR_OFFLOAD_WORKER_START rather than hanging them', async () => {
  const p = new ThreadPool({ script: BROKEN, threads: 2 })
  try {
    const first = await within(Promise.all([p.run(1), p.run(2)].map((t) => t.catch((e) => e))), 10_000, 'the first tasks')
    for (const err of first) {
      assert.equal(err.code, 'ERR_OFFLOAD_WORKER_START', err.message)
      assert.match(err.message, /this thread worker fails at load/)
    }
    // Later tasks, while the pool backs off between attempts, fail too, and promptly.
    for (let i = 0; i < 8; i++) {
      const err = await within(p.run(i).catch((e) => e), 2000, `task ${i} after the start failures`)
      assert.equal(err.code, 'ERR_OFFLOAD_WORKER_START', err.message)
    }
  } finally {
    await p.destroy()
  }
})

test('ESM and CommonJS scripts, and a script given as a file: URL', async () => {
  for (const [script, where] of [
    [ESM, pathToFileURL(ESM).href],
    [pathToFileURL(ESM), pathToFileURL(ESM).href],
    [WORKER, WORKER],
    [pathToFileURL(WORKER), WORKER],
  ]) {
    const p = new ThreadPool({ script, threads: 1 })
    try {
      assert.equal(await p.run(null, { name: 'where' }), where)
      assert.deepEqual(await p.run(new Map([[1, 2n]]), { name: 'echo' }), new Map([[1, 2n]]))
    } finally {
      await p.close()
    }
  }
})

test('every promise settles: 200 000 tasks with random process.exit() crashes, each with its own outcome', async () => {
  const N = 200_000
  const CHUNK = 20_000
  let resolved = 0
  let crashed = 0
  let exits = 0
  const other = []
  const started = Date.now()
  await withPool({ threads: 2 }, async (p) => {
    for (let base = 0; base < N; base += CHUNK) {
      const tasks = []
      for (let i = base; i < base + CHUNK; i++) {
        const exit = Math.random() < 1 / 2000
        if (exit) exits++
        tasks.push(p.run(exit ? -i - 1 : i, { name: 'maybeExit' }).then(
          (v) => { if (!exit && v === i) resolved++; else other.push(`${i}: resolved ${v}`) },
          (e) => { if (exit && e.code === 'ERR_OFFLOAD_WORKER_CRASHED') crashed++; else other.push(`${i}: ${e.code} ${e.message}`) },
        ))
      }
      await within(Promise.all(tasks), 120_000, `tasks ${base}..${base + CHUNK}`)
    }
    const s = p.stats()
    assert.deepEqual([s.submitted, s.completed, s.crashed, s.queued, s.running], [N, N - exits, exits, 0, 0])
  })
  assert.deepEqual(other.slice(0, 5), [])
  assert.equal(resolved + crashed, N)
  assert.equal(crashed, exits)
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`)
})

test('the event loop stays free while two threads spin CPU-bound handlers', async () => {
  await withPool({ threads: 2 }, async (p) => {
    // Both workers started first: their boot is not what is measured.
    while (p.stats().idle < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    const { result, maxDelayMs } = await maxLoopDelay(() => Promise.all([1, 2, 3, 4, 5, 6].map(() => p.run(250, { name: 'spinFor' }))))
    assert.equal(new Set(result).size, 2, 'both threads worked')
    assert.ok(maxDelayMs < 100, `the loop stalled ${maxDelayMs} ms`)
  })
})

const NO_SERVE = path.join(__dirname, 'fixtures', 'thread-no-serve.js')
const { until } = require('./helpers/until')

test('minThreads 0: threads start on demand up to `threads`, and retire after idleTimeout down to minThreads', async () => {
  await withPool({ threads: 2, minThreads: 0, idleTimeout: 200 }, async (p) => {
    assert.equal(p.stats().threads, 0, 'no thread before a task')
    const g = gate()
    try {
      const seen = [p.stats().threads]
      const held = [p.run(g.key, { name: 'gate' })]
      seen.push(p.stats().threads)
      await g.started(1)
      // The first thread is busy: the next task starts a second one; a third waits for them.
      held.push(p.run(g.key, { name: 'gate' }))
      seen.push(p.stats().threads)
      await g.started(2)
      const busy = osThreads()
      const queued = [1, 2, 3].map((i) => p.run(i, { name: 'echo' }))
      seen.push(p.stats().threads)
      assert.deepEqual(seen, [0, 1, 2, 2])
      g.open()
      const ids = await Promise.all(held)
      assert.equal(new Set(ids).size, 2, 'two threads ran the held tasks')
      assert.deepEqual(await Promise.all(queued), [1, 2, 3])
      // Idle for idleTimeout: both retire, and their OS threads are gone.
      await until(() => p.stats().threads === 0, 'the idle threads to retire', 20_000)
      await until(() => osThreads() <= busy - 2, 'the OS threads to end', 20_000)
      const s = p.stats()
      assert.deepEqual([s.idle, s.running, s.crashed, s.completed], [0, 0, 0, 5])
      // And start again on demand.
      const again = await p.run(null, { name: 'threadId' })
      assert.ok(!ids.includes(again), 'a new thread')
      assert.equal(p.stats().threads, 1)
    } finally {
      g.close()
    }
  })
  await withPool({ threads: 2, minThreads: 1, idleTimeout: 50 }, async (p) => {
    assert.equal(p.stats().threads, 1)
    const g = gate()
    try {
      const held = [p.run(g.key, { name: 'gate' }), p.run(g.key, { name: 'gate' })]
      await g.started(2)
      assert.equal(p.stats().threads, 2)
      g.open()
      await Promise.all(held)
      await until(() => p.stats().threads === 1, 'the thread above minThreads to retire', 20_000)
      assert.equal(await p.run('still', { name: 'echo' }), 'still')
      assert.equal(p.stats().threads, 1, 'minThreads stay')
    } finally {
      g.close()
    }
  })
})

test('no task is lost to a retiring thread: 2000 tasks in bursts across retirements', async () => {
  // idleTimeout 1: a thread is retired as soon as the pool finds it parked, so retirements
  // and new tasks meet all the time. A task handed to a thread being terminated would fail
  // with ERR_OFFLOAD_WORKER_CRASHED.
  await withPool({ threads: 2, minThreads: 0, idleTimeout: 1 }, async (p) => {
    const threadIds = new Set()
    let next = 0
    let drops = 0
    let waited = 0
    while (next < 2000) {
      const size = 1 + Math.floor(Math.random() * 60)
      const burst = []
      for (let i = 0; i < size && next < 2000; i++, next++) {
        const n = next
        burst.push(p.run(n, { name: i % 10 === 0 ? 'later' : 'echo' }).then((v) => assert.equal(v, n)))
      }
      burst.push(p.run(null, { name: 'threadId' }).then((id) => threadIds.add(id)))
      await within(Promise.all(burst), 30_000, `the burst ending at ${next}`)
      next++ // the threadId task
      if (next % 5 === 0) {
        // Every few bursts, wait for every thread to have retired.
        await until(() => p.stats().threads === 0, 'the threads to retire', 20_000)
        waited++
      } else {
        // Otherwise a pause of random length, so new tasks meet retirements in progress.
        const before = p.stats().threads
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 25))
        if (p.stats().threads < before) drops++
      }
    }
    const s = p.stats()
    assert.equal(s.crashed, 0, 'no task was lost')
    assert.deepEqual([s.completed, s.queued, s.running], [s.submitted, 0, 0])
    assert.ok(waited > 0 && threadIds.size > 2, `threads were retired and started again (${threadIds.size} threads, ${drops} drops)`)
  })
})

test('a module that never calls serve() fails its tasks with ERR_OFFLOAD_WORKER_START after startTimeout', async () => {
  // libuv starts its 4 threads on first use, which a worker's start may be: not a leak.
  await fs.promises.stat(__filename)
  const baseline = osThreads()
  const p = new ThreadPool({ script: NO_SERVE, threads: 1, startTimeout: 300 })
  try {
    const started = Date.now()
    const err = await within(rejects(p.run(1), 'ERR_OFFLOAD_WORKER_START'), 10_000, 'the task waiting for a start')
    assert.match(err.message, /did not call serve\(\) within 300 ms/)
    assert.ok(Date.now() - started >= 250, 'not before the start timeout')
    // Backing off between attempts: later tasks fail at once.
    await within(rejects(p.run(2), 'ERR_OFFLOAD_WORKER_START'), 2000, 'a task during the backoff')
  } finally {
    await p.destroy()
  }
  // At most the baseline: a thread an earlier test left lingering may end meanwhile too.
  await until(() => osThreads() <= baseline, 'the OS threads to end', 10_000)
  // A module that does serve() is not cut short by a startTimeout it meets.
  await withPool({ threads: 1, startTimeout: 5000 }, async (p) => {
    assert.equal(await p.run('served', { name: 'echo' }), 'served')
  })
})

test('minThreads, idleTimeout and startTimeout are checked, naming the option and value', () => {
  for (const [options, code, name] of [
    [{ threads: 2, minThreads: 3 }, 'ERR_OUT_OF_RANGE', /"options\.minThreads".*>= 0 && <= 2.*Received 3/],
    [{ minThreads: -1 }, 'ERR_OUT_OF_RANGE', /"options\.minThreads"/],
    [{ minThreads: 1.5 }, 'ERR_OUT_OF_RANGE', /"options\.minThreads"/],
    [{ minThreads: '1' }, 'ERR_INVALID_ARG_TYPE', /"options\.minThreads" property must be of type number.*string \('1'\)/],
    [{ idleTimeout: -1 }, 'ERR_OUT_OF_RANGE', /"options\.idleTimeout".*Received -1/],
    [{ idleTimeout: 2 ** 31 }, 'ERR_OUT_OF_RANGE', /"options\.idleTimeout"/],
    [{ idleTimeout: null }, 'ERR_INVALID_ARG_TYPE', /"options\.idleTimeout"/],
    [{ startTimeout: NaN }, 'ERR_OUT_OF_RANGE', /"options\.startTimeout".*NaN/],
    [{ startTimeout: '10s' }, 'ERR_INVALID_ARG_TYPE', /"options\.startTimeout"/],
    [{ threads: 0 }, 'ERR_OUT_OF_RANGE', /"options\.threads"/],
  ]) {
    assert.throws(() => new ThreadPool({ script: WORKER, ...options }), (err) => {
      assert.equal(err.code, code, `${JSON.stringify(options)}: ${err.message}`)
      assert.match(err.message, name)
      return true
    })
  }
})

test('without `threads`, a minThreads above the default raises the maximum to it', async () => {
  const n = require('node:os').availableParallelism() + 1
  const p = new ThreadPool({ script: WORKER, minThreads: n })
  try {
    assert.deepEqual([p.threads, p.stats().threads], [n, n])
  } finally {
    await p.destroy()
  }
})
