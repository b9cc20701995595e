'use strict'
// offload/worker against a parent that speaks the protocol by hand over child_process pipes
// (descriptors 3 and 4): ready, binary payloads, named tasks, error fields, cancellation, a
// clean exit when the requests pipe closes, and stdout kept out of the protocol.
const test = require('node:test')
const assert = require('node:assert/strict')
const cp = require('node:child_process')
const crypto = require('node:crypto')
const path = require('node:path')
const { KIND, message, encodeFrame, FrameReader, valueOf } = require('../lib/process-pool/protocol')
const { within } = require('./helpers/until')

const WORKER = path.join(__dirname, 'fixtures', 'pool-worker.js')
const PY_WORKER = path.join(__dirname, 'fixtures', 'pool_worker.py')

// Starts a worker; returns helpers to send tasks and await their reply frames.
function startWorker(command = process.execPath, args = [WORKER]) {
  const child = cp.spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit', 'pipe', 'pipe'] })
  const reader = new FrameReader()
  const waiting = new Map()
  const frames = []
  let onFrame = () => {}
  child.stdio[4].on('data', (chunk) => {
    for (const frame of reader.push(chunk)) {
      frames.push(frame)
      const resolve = waiting.get(frame.id)
      if (resolve && frame.kind !== KIND.ready) {
        waiting.delete(frame.id)
        resolve(frame)
      }
      onFrame(frame)
    }
  })
  let stdout = ''
  child.stdout.on('data', (d) => { stdout += d })
  const ready = new Promise((resolve) => {
    onFrame = (f) => { if (f.kind === KIND.ready) resolve(f) }
  })
  let next = 1
  return {
    child,
    ready,
    frames,
    stdout: () => stdout,
    run(name, payload) {
      const id = next++
      for (const part of message(KIND.run, id, 'payload', payload, { name })) child.stdio[3].write(part)
      return { id, reply: new Promise((resolve) => waiting.set(id, resolve)) }
    },
    // A run frame with this header and these blobs, however malformed.
    runRaw(header, blobs = []) {
      const id = next++
      for (const part of encodeFrame(KIND.run, id, JSON.stringify(header), blobs)) child.stdio[3].write(part)
      return new Promise((resolve) => waiting.set(id, resolve))
    },
    cancel(id) {
      for (const part of message(KIND.cancel, id, 'value', undefined)) child.stdio[3].write(part)
    },
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  }
}

test('the worker announces itself, then answers tasks with binary data intact', async () => {
  const w = startWorker()
  const ready = await w.ready
  assert.equal(ready.id, 0)
  assert.deepEqual([ready.header.protocol, ready.header.pid], [1, w.child.pid])

  const big = crypto.randomBytes(1024 * 1024)
  const payload = { text: 'hi', nested: [{ bin: Buffer.from('abc') }], floats: new Float32Array([1.5, 2.5]) }
  const [echo, hash] = await Promise.all([w.run('echo', payload).reply, w.run('hash', big).reply])
  assert.equal(echo.kind, KIND.result)
  const back = valueOf(echo, 'value')
  assert.equal(back.text, 'hi')
  assert.ok(back.nested[0].bin.equals(Buffer.from('abc')))
  assert.deepEqual([...back.floats], [1.5, 2.5])
  assert.ok(valueOf(hash, 'value').equals(crypto.createHash('sha256').update(big).digest()))

  const log = await w.run('log', 'to the log').reply
  assert.equal(valueOf(log, 'value'), 'logged')
  w.child.stdio[3].end()
  assert.deepEqual(await w.exited, { code: 0, signal: null })
  assert.equal(w.stdout(), 'to the log\n')
})

test('errors keep name, message, stack, code and own properties', async () => {
  const w = startWorker()
  await w.ready
  const fail = await w.run('fail', null).reply
  assert.equal(fail.kind, KIND.error)
  const err = valueOf(fail, 'error')
  assert.deepEqual([err.name, err.message, err.code, err.props.status], ['TypeError', 'bad input', 'E_BAD', 422])
  assert.equal(err.props.detail.field, 'name')
  assert.ok(err.props.detail.raw.equals(Buffer.from([1, 2])))
  assert.match(err.stack, /TypeError: bad input\n\s+at fail .*pool-worker\.js/)
  const str = valueOf(await w.run('throwString').reply, 'error')
  assert.deepEqual([str.name, str.message], ['Error', 'just a string'])
  const unknown = valueOf(await w.run('nope', 1).reply, 'error')
  assert.equal(unknown.code, 'ERR_OFFLOAD_UNKNOWN_TASK')
  assert.equal(valueOf(await w.run('constructor', 1).reply, 'error').code, 'ERR_OFFLOAD_UNKNOWN_TASK')
  const cyclic = valueOf(await w.run('circular').reply, 'error')
  assert.deepEqual([cyclic.name, cyclic.message, cyclic.code], ['Error', 'with a cycle', 'E_CYCLE'])
  assert.match(cyclic.stack, /with a cycle/)
  const unnamed = valueOf(await w.run(null, 1).reply, 'error')
  assert.equal(unnamed.code, 'ERR_OFFLOAD_UNKNOWN_TASK', 'no default handler in this fixture')
  w.child.stdio[3].end()
  await w.exited
})

test('cancel aborts the task signal; closing requests lets running tasks finish first', async () => {
  const w = startWorker()
  await w.ready
  const waiting = w.run('wait', null)
  const slow = w.run('slow', 150)
  w.cancel(waiting.id)
  // `wait` settles only when its signal aborts: a lost cancel would hang here, not fail.
  const cancelled = await within(waiting.reply, 10_000, 'the cancelled task')
  assert.equal(cancelled.kind, KIND.error)
  assert.equal(valueOf(cancelled, 'error').message, 'cancelled by the pool')
  w.child.stdio[3].end() // while `slow` still runs
  const done = await slow.reply
  assert.equal(valueOf(done, 'value'), 'slept 150')
  assert.deepEqual(await w.exited, { code: 0, signal: null })
})

test('serve() refuses to run outside a pool', () => {
  const r = cp.spawnSync(process.execPath, [WORKER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /not started by an offload ProcessPool/)
})

test('the ESM entry exports the same serve', async () => {
  const esm = await import('offload/worker')
  assert.equal(esm.serve, require('offload/worker').serve)
})

test('the Python helper speaks the same protocol', async () => {
  const w = startWorker('python3', [PY_WORKER])
  const ready = await w.ready
  assert.deepEqual([ready.header.protocol, ready.header.pid], [1, w.child.pid])
  const big = crypto.randomBytes(1024 * 1024)
  const payload = { text: 'hi', list: [1, null, { bin: Buffer.from('abc') }], $offload: 'not a marker' }
  const [echo, hash] = await Promise.all([w.run('echo', payload).reply, w.run('hash', big).reply])
  const back = valueOf(echo, 'value')
  assert.equal(back.text, 'hi')
  assert.equal(back.$offload, 'not a marker')
  assert.ok(back.list[2].bin.equals(Buffer.from('abc')))
  assert.ok(valueOf(hash, 'value').equals(crypto.createHash('sha256').update(big).digest()))
  const err = valueOf(await w.run('fail', null).reply, 'error')
  assert.deepEqual([err.name, err.message, err.code, err.props.status], ['BadInput', 'bad input', 'E_BAD', 422])
  assert.match(err.stack, /Traceback[\s\S]*pool_worker\.py[\s\S]*BadInput: bad input/)
  assert.equal(valueOf(await w.run('nope', 1).reply, 'error').code, 'ERR_OFFLOAD_UNKNOWN_TASK')
  assert.equal(valueOf(await w.run('log', 'from python').reply, 'value'), 'logged')
  assert.deepEqual(valueOf(await w.run('nan').reply, 'value'), { x: null, y: [null] })
  const set = valueOf(await w.run('aset').reply, 'error')
  assert.deepEqual([set.name, set.code], ['TypeError', 'ERR_INVALID_ARG_TYPE'])
  assert.match(set.message, /^offload_worker: the result could not be sent: The "result" argument must be .*Received an instance of set$/)
  w.child.stdio[3].end()
  assert.deepEqual(await w.exited, { code: 0, signal: null })
  assert.equal(w.stdout(), 'from python\n')
})

test('a corrupt request stream makes a worker exit with 70 instead of hanging', async () => {
  for (const [command, args] of [[process.execPath, [WORKER]], ['python3', [PY_WORKER]]]) {
    const w = startWorker(command, args)
    await w.ready
    const header = Buffer.from('[]') // valid JSON, but not a header object with blobs
    const frame = Buffer.alloc(13 + header.length)
    frame.writeUInt32LE(9 + header.length, 0)
    frame.writeUInt8(KIND.run, 4)
    frame.writeUInt32LE(1, 5)
    frame.writeUInt32LE(header.length, 9)
    header.copy(frame, 13)
    const huge = Buffer.alloc(4)
    huge.writeUInt32LE(0xfffffff0, 0) // a length no helper accepts
    w.child.stdio[3].write(command === 'python3' ? frame : huge)
    assert.deepEqual(await w.exited, { code: 70, signal: null }, command)
  }
})

test('both helpers refuse a payload with a malformed blob or an unknown marker, and go on serving', async () => {
  for (const [command, args] of [[process.execPath, [WORKER]], ['python3', [PY_WORKER]]]) {
    const w = startWorker(command, args)
    await w.ready
    const blob = (type, bytes) => w.runRaw({ name: 'echo', blobs: [bytes], payload: { x: { $offload: 'blob', index: 0, type } } }, [Buffer.alloc(bytes)])
    const expect = async (reply, pattern) => {
      const frame = await reply
      assert.equal(frame.kind, KIND.error, `${command}: ${pattern}`)
      assert.match(valueOf(frame, 'error').message, pattern, command)
    }
    await expect(blob('Float64Array', 3), /a Float64Array blob of 3 bytes is not a whole number of 8-byte elements/)
    await expect(blob('Int32Array', 6), /a Int32Array blob of 6 bytes/)
    await expect(blob('Nope', 2), /unknown blob type "Nope"/)
    await expect(w.runRaw({ name: 'echo', blobs: [], payload: { $offload: 'map', entries: [] } }), /unknown marker "map"/)
    await expect(w.runRaw({ name: 'echo', blobs: [], payload: { $offload: 'blob', index: 2, type: 'Buffer' } }), /points past the blobs/)
    const ok = valueOf(await blob('Float64Array', 8), 'value').x
    assert.equal(ok.length, command === 'python3' ? 8 : 1, command) // Python gets bytes
    w.child.stdio[3].end()
    assert.deepEqual(await w.exited, { code: 0, signal: null }, command)
  }
})
