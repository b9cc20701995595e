'use strict'
// The life of a parse (issue 18): `break` and return() stop reading and close the file (counted
// in /proc/self/fd), a Readable or AsyncIterable source is left alone after it, read-ahead is
// bounded on an endless source, an AbortSignal gives AbortError with its reason as cause, and a
// 300 MB CSV parses in a child whose heap is capped at 64 MB with its row count right.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable } = require('node:stream')
const { execFile } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')
const { parseCsv, parseNdjson, parseJson, AbortError } = require('..')
const { until, within } = require('./helpers/until')
const { openFds } = require('./helpers/proc')
const { ordersCsv } = require('./helpers/parse')

const MiB = 1024 * 1024
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'offload-parse-stream-')))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

// About 1 MiB of orders rows (no header), written again and again: big files made fast.
const BLOCK = (() => { const o = ordersCsv(16_000); return { text: o.text.slice(o.text.indexOf('\n') + 1), rows: 16_000, header: o.text.slice(0, o.text.indexOf('\n') + 1) } })()
function bigCsv(name, blocks) {
  const file = path.join(dir, name)
  const fd = fs.openSync(file, 'w')
  try {
    fs.writeSync(fd, BLOCK.header)
    const block = Buffer.from(BLOCK.text)
    for (let i = 0; i < blocks; i++) fs.writeSync(fd, block)
  } finally {
    fs.closeSync(fd)
  }
  return { file, rows: blocks * BLOCK.rows, size: fs.statSync(file).size }
}

// Descriptors of this process open on `file`.
function fdsOn(file) {
  let n = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++
    } catch {}
  }
  return n
}

let big
test.before(() => { big = bigCsv('big.csv', 48) })

test('break from a { path } parse closes the file soon after and reads no further', async () => {
  const fdsBefore = openFds()
  const stream = parseCsv({ path: big.file }, { columns: true })
  let n = 0
  for await (const batch of stream) {
    assert.ok(batch.length > 0)
    if (++n === 1) assert.ok(fdsOn(big.file) >= 1, 'the file is open while it is parsed')
    if (n === 2) break
  }
  await until(() => fdsOn(big.file) === 0, 'the file closed after break', 5000)
  await until(() => openFds() <= fdsBefore, `descriptors back to ${fdsBefore}`, 5000)
  const bytes = stream.stats.bytes
  assert.ok(bytes < big.size / 2, `read ahead is bounded: ${bytes} of ${big.size} bytes consumed`)
  await sleep(200)
  assert.equal(stream.stats.bytes, bytes, 'nothing read after break')
})

test('return() on the iterator closes the file; next() is then done', async () => {
  const it = parseCsv({ path: big.file })[Symbol.asyncIterator]()
  assert.equal((await it.next()).done, false)
  assert.ok(fdsOn(big.file) >= 1)
  assert.equal((await it.return()).done, true)
  await until(() => fdsOn(big.file) === 0, 'the file closed after return()', 5000)
  assert.equal((await it.next()).done, true)
})

// An endless Readable of CSV rows in 64 KiB chunks, counting what was pulled from it. Past
// 256 MiB it stalls (pushes nothing, never ends) instead of filling this process's heap: a
// parser that reads it all before its first batch then hangs, and within() fails the test.
function endless() {
  const chunk = Buffer.from(BLOCK.text.slice(0, 64 * 1024).slice(0, BLOCK.text.slice(0, 64 * 1024).lastIndexOf('\n') + 1))
  const source = new Readable({
    read() {
      if (source.pulled > 256 * MiB) return
      source.pulled += chunk.length
      this.push(chunk)
    },
  })
  source.pulled = 0
  source.push(BLOCK.header)
  return source
}

test('an endless Readable: read-ahead stays bounded, and after break it is destroyed or read no further', async () => {
  const source = endless()
  const stream = parseCsv(source, { columns: true })
  await within((async () => {
    let n = 0
    for await (const batch of stream) {
      assert.ok(batch.length > 0)
      if (++n === 3) break
    }
  })(), 20_000, 'three batches of an endless source')
  const pulled = source.pulled
  assert.ok(pulled < 64 * MiB, `read-ahead bounded: ${pulled} bytes pulled for 3 batches`)
  await sleep(300)
  assert.ok(source.destroyed || source.pulled - pulled <= 2 * 64 * 1024, `pulled ${source.pulled - pulled} more bytes after break`)
})

test('break from an AsyncIterable source ends the iterable (its finally runs)', async () => {
  let finished = false
  let pulled = 0
  async function * rows() {
    try {
      yield BLOCK.header
      for (;;) { pulled++; yield BLOCK.text }
    } finally {
      finished = true
    }
  }
  for await (const batch of parseNdjson((async function * () { for (let i = 0; ; i++) yield `{"i":${i}}\n`.repeat(1000) })(), { batchRows: 10 })) {
    assert.equal(batch.length, 10)
    break
  }
  for await (const batch of parseCsv(rows(), { columns: true })) {
    assert.ok(batch.length > 0)
    break
  }
  await until(() => finished, 'the source generator finished', 5000)
  assert.ok(pulled < 64, `${pulled} MiB pulled`)
})

test('abort mid-parse: AbortError with the reason as cause, and the file closed', async () => {
  for (const reason of [new Error('stop now'), undefined]) {
    const ac = new AbortController()
    const it = parseCsv({ path: big.file }, { signal: ac.signal })[Symbol.asyncIterator]()
    assert.equal((await it.next()).done, false)
    ac.abort(reason)
    await assert.rejects(async () => {
      for (;;) if ((await it.next()).done) throw new Error('the parse ended without an AbortError')
    }, (err) => {
      assert.ok(err instanceof AbortError, err.stack)
      assert.equal(err.name, 'AbortError')
      assert.equal(err.code, 'ABORT_ERR')
      assert.equal(err.cause, ac.signal.reason)
      if (reason) assert.equal(err.cause, reason)
      return true
    })
    await until(() => fdsOn(big.file) === 0, 'the file closed after abort', 5000)
  }
  // From a Readable: aborting ends the parse too.
  const ac = new AbortController()
  const source = endless()
  const it = parseCsv(source, { columns: true, signal: ac.signal })[Symbol.asyncIterator]()
  const first = it.next()
  await sleep(100)
  ac.abort('why')
  await within(assert.rejects(async () => {
    await first
    for (;;) await it.next()
  }, (err) => err instanceof AbortError && err.cause === 'why'), 20_000, 'abort of an endless Readable')
})

test('an already-aborted signal rejects the first next() (and parseJson) at once', async () => {
  const reason = new Error('too late')
  const signal = AbortSignal.abort(reason)
  const isAbort = (err) => err instanceof AbortError && err.cause === reason
  await assert.rejects(parseCsv('a,b\n', { signal })[Symbol.asyncIterator]().next(), isAbort)
  await assert.rejects(parseCsv({ path: big.file }, { signal })[Symbol.asyncIterator]().next(), isAbort)
  await assert.rejects(parseNdjson('1\n', { signal })[Symbol.asyncIterator]().next(), isAbort)
  await assert.rejects(parseJson('1', { signal }), isAbort)
  assert.equal(fdsOn(big.file), 0)
})

// A file several times the child's whole heap, consumed and dropped batch by batch.
function runChild(file, source) {
  const fixture = path.join(__dirname, 'fixtures', 'parse', 'big-child.js')
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--max-old-space-size=64', fixture, path.join(__dirname, '..'), file, source],
      { timeout: 120_000, maxBuffer: MiB }, (err, stdout, stderr) => {
        if (err) reject(new Error(`child (${source}) failed: ${err.message}\n${stderr}`))
        else resolve(JSON.parse(stdout))
      })
  })
}

test('a 300 MB CSV parses with a 64 MB heap: every row counted, peak RSS under 400 MB', async (t) => {
  const huge = bigCsv('huge.csv', 300)
  try {
    assert.ok(huge.size > 300e6)
    for (const source of ['path', 'stream']) {
      const t0 = Date.now()
      const out = await runChild(huge.file, source)
      t.diagnostic(`${source}: ${out.rows} rows in ${out.batches} batches, ${Date.now() - t0} ms, peak RSS ${(out.maxRssBytes / MiB).toFixed(0)} MiB`)
      assert.ok(out.heapLimit < 200 * MiB, `the child's heap is capped (${out.heapLimit})`)
      assert.equal(out.rows, huge.rows, source)
      assert.equal(out.stats.rows, huge.rows, source)
      assert.equal(out.stats.bytes, huge.size, source)
      assert.ok(out.batches > 100, `${out.batches} batches`)
      assert.ok(out.maxRssBytes < 400 * MiB, `${source}: peak RSS ${(out.maxRssBytes / MiB).toFixed(0)} MiB`)
    }
  } finally {
    fs.rmSync(huge.file, { force: true })
  }
})

// A settled iterator means no step reads the caller's buffer any more: a step copies its piece
// under a flag that closeParser (run before next() rejects) waits on. The window it closes is
// one memcpy of at most 1 MiB, too short to hit reliably; this runs the abort-while-queued and
// abort-while-running cases with the buffer detached, collected and reused at once.
test('after an abort rejects, a Buffer source can be transferred and collected', async () => {
  const fixture = path.join(__dirname, 'fixtures', 'parse', 'abort-then-transfer.js')
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', fixture, '12'], { timeout: 60_000 }, (err, out, errOut) => {
      if (err) reject(new Error(`${err.message}\n${errOut}`))
      else resolve(out)
    })
  })
  const { latencies } = JSON.parse(stdout)
  assert.ok(latencies.length >= 6, `aborted rounds: ${latencies.length}`)
  // A step is never awaited beyond its copy: the rejection is prompt (not a hang).
  assert.ok(Math.max(...latencies) < 500, latencies.join(', '))
})

test('timeout bounds the whole parse: ERR_OFFLOAD_TIMEOUT from next() and from parseJson', async () => {
  // An endless source: only the timeout can end it.
  async function * endless() {
    for (;;) {
      yield Buffer.from('1\n'.repeat(20_000))
      await sleep(5)
    }
  }
  const stream = parseNdjson(endless(), { timeout: 300 })
  let rows = 0
  const err = await within((async () => {
    for await (const batch of stream) rows += batch.length
  })(), 10_000, 'an endless parse with a timeout').then(() => undefined, (e) => e)
  assert.equal(err?.code, 'ERR_OFFLOAD_TIMEOUT')
  assert.ok(rows > 0, 'rows before the timeout were delivered')
  const never = { async * [Symbol.asyncIterator]() { await sleep(60_000); yield Buffer.from('1') } }
  await assert.rejects(within(parseJson(never, { timeout: 50 }), 5000, 'parseJson with a timeout'), { code: 'ERR_OFFLOAD_TIMEOUT' })
})
