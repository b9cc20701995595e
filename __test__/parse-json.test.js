'use strict'
// parseNdjson and parseJson (issue 18) against JSON.parse: generated values (nesting, escapes,
// lone surrogates, extreme numbers, -0, __proto__, duplicate and integer-like keys, thousands
// of shapes, 1000-key objects, depth 5000), blank lines and CRLF, every source, errors with
// their position after the good values before them, onError: 'skip', a ~30 MB document decoded
// while the loop keeps ticking, and option validation.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { parseNdjson, parseJson, OffloadError, AbortError } = require('..')
const { prng, collect, rowsOf, tinyReadable, position } = require('./helpers/parse')
const { maxLoopDelay } = require('./helpers/loop-delay')
const { writeOrders, rowsFor } = require('../benchmark/data/orders')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-parse-json-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

// Number texts JSON.parse reads in its own way: -0, overflow to Infinity, underflow to 0,
// subnormals, integers past 2^53, exponent forms.
const NUMBERS = ['0', '-0', '-0.0', '1', '-1', '0.1', '1e400', '-1e400', '1e-400', '5e-324', '2.2250738585072014e-308',
  '1.7976931348623157e308', '9007199254740993', '123456789012345678901234567890', '1E+2', '0.5e-3', '-12.75E3', '3.141592653589793']
// Strings as raw UTF-8 and as escapes: lone surrogates, pairs, controls, \/ and the rest.
const STRINGS = ['', 'plain', 'é中文😀', '\\ud800', '\\udfff', 'a\\ud800b', '\\ud83d\\ude00', '\\u0000\\u001f', '\\u00e9\\u4e2d',
  '\\"\\\\\\/\\b\\f\\n\\r\\t', 'tab\\tnew\\nline', '\\u2028\\u2029', 'Ω 𝄞', '\\uFFFF\\uFEFF', '__proto__']
const KEYS = ['a', 'b', 'é', '😀', '', '1', '10', '0', '4294967295', '-1', '01', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x y', '\\u0061']

// One JSON text of a random value, with random JSON whitespace (spaces and tabs: it stays one
// line) and, now and then, a key written twice.
function genJson(rnd, depth = 0) {
  const pick = (list) => list[Math.floor(rnd() * list.length)]
  const ws = () => (rnd() < 0.2 ? pick([' ', '\t', '  ', ' \t ']) : '')
  const r = rnd()
  if (depth > 4 || r < 0.45) {
    const k = rnd()
    if (k < 0.4) return pick(NUMBERS)
    if (k < 0.8) return `"${pick(STRINGS)}"`
    return pick(['true', 'false', 'null'])
  }
  if (r < 0.7) {
    const n = Math.floor(rnd() * 5)
    return '[' + ws() + Array.from({ length: n }, () => genJson(rnd, depth + 1)).join(ws() + ',' + ws()) + ws() + ']'
  }
  const n = Math.floor(rnd() * 6)
  const members = Array.from({ length: n }, () => `"${pick(KEYS)}"${ws()}:${ws()}${genJson(rnd, depth + 1)}`)
  if (n && rnd() < 0.2) members.push(members[0].replace(/:.*$/, ':' + genJson(rnd, depth + 1)))
  return '{' + ws() + members.join(ws() + ',' + ws()) + ws() + '}'
}

// Equal to JSON.parse's values, prototypes (deepStrictEqual) and key order (JSON.stringify).
function sameValues(got, want, label) {
  assert.deepEqual(got, want, label)
  assert.equal(JSON.stringify(got), JSON.stringify(want), `${label}: key order`)
}

// Iterative deep equality (assert's recursion and JSON.stringify give out before depth 5000):
// same prototypes, same keys in the same order, Object.is leaves.
function sameDeep(a, b, label) {
  const stack = [[a, b, '$']]
  while (stack.length) {
    const [x, y, at] = stack.pop()
    if (typeof x !== 'object' || x === null || typeof y !== 'object' || y === null) {
      assert.ok(Object.is(x, y), `${label} ${at}: ${x} vs ${y}`)
      continue
    }
    assert.equal(Object.getPrototypeOf(x), Object.getPrototypeOf(y), `${label} ${at}: prototype`)
    const keys = Object.keys(x)
    assert.deepEqual(keys, Object.keys(y), `${label} ${at}: keys`)
    for (const k of keys) stack.push([x[k], y[k], at.length < 100 ? `${at}.${k}` : at])
  }
}

const isBlank = (line) => /^[ \t\r]*$/.test(line)
const oracle = (text) => text.split('\n').filter((l) => !isBlank(l)).map((l) => JSON.parse(l))

// Generated lines, with blank and whitespace-only lines, CRLF on some lines, no final newline.
function genNdjson(seed, n) {
  const rnd = prng(seed)
  const lines = []
  for (let i = 0; i < n; i++) {
    lines.push(genJson(rnd) + (i % 3 === 0 ? '\r' : ''))
    if (i % 17 === 0) lines.push(['', ' ', '\t', '\r', ' \r'][i % 5])
  }
  return lines.join('\n')
}

async function ndjson(input, options) {
  const stream = parseNdjson(input, options)
  const rows = await rowsOf(stream)
  assert.equal(stream.stats.rows, rows.length)
  assert.equal(stream.stats.skipped, 0)
  return rows
}

test('generated NDJSON equals JSON.parse line by line, from every source', async () => {
  for (const seed of [1, 2, 3]) {
    const text = genNdjson(seed, 3000)
    assert.equal(oracle(text).length, 3000)
    const buf = Buffer.from(text)
    const file = path.join(dir, `gen${seed}.ndjson`)
    fs.writeFileSync(file, buf)
    // Tiny chunks on the first ~500 lines only: thousands of chunks are enough to split everything.
    const small = text.slice(0, text.indexOf('\n', 60_000) + 1)
    const smallFile = path.join(dir, `small${seed}.ndjson`)
    fs.writeFileSync(smallFile, small)
    for (const [name, source, input] of [['Buffer', buf], ['string', text], ['1-3 byte chunks', tinyReadable(Buffer.from(small), seed), small],
      ['{ path }', { path: file }], ['highWaterMark 7', fs.createReadStream(smallFile, { highWaterMark: 7 }), small], ['with a final newline', text + '\n', text + '\n']]) {
      const want = oracle(input ?? text)
      const stream = parseNdjson(source, { batchRows: 64 })
      const { batches, error } = await collect(stream)
      assert.ifError(error)
      assert.ok(batches.slice(0, -1).every((b) => b.length === 64), `${name}: batches of 64`)
      sameValues(batches.flat(), want, `seed ${seed}, ${name}`)
      assert.deepEqual(stream.stats, { rows: want.length, skipped: 0, bytes: Buffer.byteLength(input ?? text) })
    }
  }
})

test('numbers are IEEE doubles as JSON.parse reads them: -0 kept, 1e400 is Infinity', async () => {
  const rows = await ndjson(NUMBERS.join('\n'))
  NUMBERS.forEach((n, i) => assert.ok(Object.is(rows[i], JSON.parse(n)), `${n}: ${rows[i]}`))
  assert.ok(Object.is(rows[1], -0))
  assert.equal(rows[6], Infinity)
})

test('__proto__ is an own property, prototypes stay Object.prototype', async () => {
  const lines = ['{"__proto__":{"polluted":1},"a":2}', '{"a":{"__proto__":[1]}}', '[{"__proto__":null}]', '{"__proto__":1,"__proto__":2}']
  const rows = await ndjson(lines.join('\n'))
  sameValues(rows, lines.map((l) => JSON.parse(l)), '__proto__')
  const [first] = rows
  assert.equal(Object.getPrototypeOf(first), Object.prototype)
  assert.ok(Object.hasOwn(first, '__proto__'))
  assert.deepEqual(Object.keys(first), ['__proto__', 'a'])
  assert.equal(first.polluted, undefined)
  assert.equal({}.polluted, undefined)
  assert.ok(Object.hasOwn(rows[1].a, '__proto__'))
  assert.equal(rows[3].__proto__, 2) // eslint-disable-line no-proto
  assert.equal(await parseJson('{"__proto__":{"x":1}}').then((v) => Object.hasOwn(v, '__proto__') && Object.getPrototypeOf(v) === Object.prototype), true)
})

test('duplicate keys keep the last value at the first key\'s place; integer-like keys order as JSON.parse', async () => {
  const lines = ['{"a":1,"b":2,"a":3}', '{"b":1,"2":2,"1":3,"a":4,"4294967295":5,"4294967294":6,"-1":7,"01":8,"a":9}',
    '{"x":{"y":1},"x":{"z":2}}', '{"1":1,"1":2,"0":0}', '{"k":1,"k":2,"k":3,"l":4,"k":5}']
  const rows = await ndjson(lines.join('\n'))
  lines.forEach((l, i) => {
    const want = JSON.parse(l)
    assert.deepEqual(rows[i], want, l)
    assert.deepEqual(Object.keys(rows[i]), Object.keys(want), `${l}: key order`)
  })
  assert.deepEqual(rows[0], { a: 3, b: 2 })
})

test('2000 different key sets and 1000-key objects', async () => {
  const shapes = Array.from({ length: 2000 }, (_, i) => JSON.stringify(Object.fromEntries(
    Array.from({ length: 1 + (i % 11) }, (_, j) => [`k${(i * 7 + j * 13) % 2000}_${j}`, i % 3 ? j : `v${i}`]))))
  sameValues(await ndjson(shapes.join('\n'), { batchRows: 100 }), oracle(shapes.join('\n')), '2000 shapes')
  const wide = Array.from({ length: 20 }, (_, i) => JSON.stringify(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`key${(j * 31 + i) % 1000}`, j % 2 ? j : [i, `s${j}`]]))))
  sameValues(await ndjson(wide.join('\n')), oracle(wide.join('\n')), 'wide')
})

// A shape's keys are found by walking its parents: one level of recursion per key overflowed
// the stack at this width (and caching every prefix cost the square of it).
test('an object of 100,000 keys (a map keyed by id) equals JSON.parse', async () => {
  const text = JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`id${i}`, i % 3 ? i : `v${i}`])))
  assert.deepEqual(await parseJson(text), JSON.parse(text))
})

test('depth 5000 (arrays and objects) equals JSON.parse', async () => {
  const d = 5000
  const docs = ['['.repeat(d) + '1' + ']'.repeat(d), '{"a":'.repeat(d) + 'null' + '}'.repeat(d), '[{"a":'.repeat(d / 2) + '[]' + '}]'.repeat(d / 2)]
  for (const doc of docs) {
    let want
    try { want = JSON.parse(doc) } catch (err) { assert.ok(err instanceof RangeError, err.stack) }
    const results = [await collect(parseNdjson(doc + '\n' + doc)), await parseJson(doc).then((v) => ({ rows: [v] }), (error) => ({ error }))]
    for (const { rows, error } of results) {
      if (want === undefined) assert.ok(error === undefined || error instanceof Error)
      else {
        assert.ifError(error)
        assert.ok(rows.length >= 1)
        rows.forEach((v) => sameDeep(v, want, doc.slice(0, 10)))
      }
    }
  }
})

// Depth 100000: JSON.parse reads it; ours must not crash the process (run in a child so a stack
// overflow there fails this test only).
test('depth 100000 does not crash the process', async (t) => {
  const script = `const { parseJson, parseNdjson } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const doc = '['.repeat(1e5) + ']'.repeat(1e5);
    const ok = (v) => { for (let i = 1; i < 1e5; i++) { if (!Array.isArray(v) || v.length !== 1) return false; v = v[0] } return Array.isArray(v) && v.length === 0 };
    (async () => {
      const out = {};
      try { out.json = ok(await parseJson(doc)) } catch (e) { out.json = e.code ?? e.name }
      try { let all = []; for await (const b of parseNdjson(doc)) all.push(...b); out.ndjson = ok(all[0]) } catch (e) { out.ndjson = e.code ?? e.name }
      console.log(JSON.stringify(out));
    })()`
  const out = await new Promise((resolve) => execFile(process.execPath, ['-e', script], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ err, stdout, stderr })))
  assert.equal(out.err, null, `the child crashed: ${out.err?.signal ?? out.err?.code} ${out.stderr.slice(-2000)}`)
  const result = JSON.parse(out.stdout)
  // Equal to JSON.parse's value, or refused with an error: anything but a wrong value or a crash.
  for (const k of ['json', 'ndjson']) assert.ok(result[k] === true || typeof result[k] === 'string', `${k}: ${result[k]}`)
  t.diagnostic(JSON.stringify(result))
})

// A malformed line after `good` (generated, with blank lines and non-ASCII): [bad line, the
// position in it of the error (a character index, or [first, last])].
const BAD_LINES = [
  ['{"a": [1, 2,, 3]}', 12], ['{"é中":1,}', 8], ['[1 2]', 3], ['1 2', 2], ['{"a":1} x', 8], ['{\'a\':1}', 1],
  ['NaN', 0], ['[01]', [1, 2]], ['"a\u0001b"', 2], ['{"a" 1}', 5], ['["é", tru]', [6, 9]], ['"abc', [0, 4]], ['{"a":"\\x"}', [6, 7]],
  ['{"a":"\\u12"}', [6, 11]], ['[1,]', 3], ['{"a":}', 5], ['-', [0, 1]], ['1.', [0, 2]], ['.5', 0],
]

async function expectNdjsonError(input, options, { rows, offset }) {
  const buf = Buffer.from(input)
  for (const [name, make, sizes] of [['Buffer', () => buf, [undefined, 5]], ['1-3 byte chunks', () => tinyReadable(buf, 3), [5]]]) {
    for (const batchRows of sizes) {
      const label = `${JSON.stringify(buf.subarray(offset[0] - 10, offset[0] + 20).toString())} ${name} batchRows ${batchRows}`
      const stream = parseNdjson(make(), { ...options, batchRows })
      const { rows: got, error } = await collect(stream)
      assert.ok(error instanceof OffloadError, `${label}: ${error?.stack ?? 'no error'}`)
      assert.equal(error.code, 'ERR_OFFLOAD_PARSE')
      sameValues(got, rows, `${label}: values before the error`)
      assert.ok(offset[0] <= error.offset && error.offset <= offset[1], `${label}: offset ${error.offset} not in [${offset}] (${error.message})`)
      assert.deepEqual({ line: error.line, column: error.column }, position(buf, error.offset), `${label}: line/column (${error.message})`)
    }
  }
}

test('a malformed line: ERR_OFFLOAD_PARSE with its line and column, after every good value before it', async () => {
  const good = genNdjson(41, 40) + '\n\n'
  const rows = oracle(good)
  const line = good.split('\n').length
  for (const [bad, at] of BAD_LINES) {
    assert.throws(() => JSON.parse(bad), SyntaxError, `JSON.parse rejects ${bad}`)
    const [first, last] = [at].flat()
    const offset = [first, last ?? first].map((i) => Buffer.byteLength(good) + Buffer.byteLength(bad.slice(0, i)))
    await expectNdjsonError(good + bad + '\n{"after":1}\n', {}, { rows, offset })
    assert.equal(position(Buffer.from(good + bad), offset[0]).line, line)
  }
  for (const seq of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe4, 0xb8]]) {
    const input = Buffer.concat([Buffer.from(good + '["é'), Buffer.from(seq), Buffer.from('"]\n1\n')])
    const at = Buffer.byteLength(good + '["é')
    await expectNdjsonError(input, {}, { rows, offset: [at, at] })
  }
})

test("onError: 'skip' skips malformed lines and counts them", async () => {
  const rnd = prng(5)
  const lines = []
  const want = []
  for (let i = 0; i < 500; i++) {
    if (i % 25 === 7) { lines.push(BAD_LINES[((i / 25) | 0) % BAD_LINES.length][0]); continue }
    const t = genJson(rnd)
    lines.push(t)
    want.push(JSON.parse(t))
  }
  const input = Buffer.concat([Buffer.from(lines.join('\r\n') + '\n'), Buffer.from([0x22, 0xff, 0x22, 0x0a]), Buffer.from('{"x":1}\n"unterminated')])
  want.push({ x: 1 })
  for (const source of [() => input, () => tinyReadable(input, 8)]) {
    const stream = parseNdjson(source(), { onError: 'skip', batchRows: 33 })
    sameValues(await rowsOf(stream), want, 'skip')
    assert.deepEqual(stream.stats, { rows: want.length, skipped: 20 + 2, bytes: input.length })
  }
})

test('maxRowBytes bounds a line', async () => {
  const good = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, s: 'x'.repeat(i) })).join('\n') + '\n'
  const long = JSON.stringify({ s: 'y'.repeat(5000) })
  const at = Buffer.byteLength(good)
  await expectNdjsonError(good + long + '\n1\n', { maxRowBytes: 1024 }, { rows: oracle(good), offset: [at, at + long.length] })
  sameValues(await ndjson(good + long, { maxRowBytes: 8192 }), oracle(good + long), 'under the limit')
})

test('parseJson: small values and escapes equal JSON.parse', async () => {
  const docs = [...NUMBERS, ...STRINGS.map((s) => `"${s}"`), 'true', 'false', 'null', ' [] ', '{}', '\t\r\n {"a" : [ 1 , {"b":null} ] }\r\n',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '["\\ud800","\\udc00\\ud800"]', '{"a":1,"a":2,"1":0}', '[-0, 1e400, -1e400]']
  const rnd = prng(77)
  for (let i = 0; i < 200; i++) docs.push(genJson(rnd))
  for (const doc of docs) {
    const want = JSON.parse(doc)
    const got = await parseJson(doc)
    assert.deepEqual(got, want, doc)
    assert.ok(Object.is(JSON.stringify(got), JSON.stringify(want)), `${doc}: key order`)
    assert.deepEqual(await parseJson(Buffer.from(doc)), want, `${doc} (Buffer)`)
  }
  assert.ok(Object.is(await parseJson('-0'), -0))
  const buf = Buffer.from('[' + Array.from({ length: 300 }, () => genJson(rnd)).join(',\n') + ']')
  sameValues(await parseJson(tinyReadable(buf, 2)), JSON.parse(buf), '1-3 byte chunks')
})

test('parseJson: a malformed document or trailing garbage rejects with offset, line and column', async () => {
  const head = '{\n  "é中": [1, 2],\n  "b": ['
  const cases = [[head + '1 x]}', head + '1 '], [head + '1,,2]}', head + '1,'], ['{"a":1} x', '{"a":1} '], ['[1] [2]', '[1] '],
    ['1 2', '1 '], ['{"a":1}}', '{"a":1}'], ['"é" "x"', '"é" '], ['{"a":1,}', '{"a":1,'], ['\n\n  nul', [2, 2 + 5]]]
  for (const [doc, before] of cases) {
    assert.throws(() => JSON.parse(doc), SyntaxError)
    const range = typeof before === 'string' ? [Buffer.byteLength(before), Buffer.byteLength(before)] : before
    for (const source of [doc, Buffer.from(doc), tinyReadable(Buffer.from(doc))]) {
      await assert.rejects(parseJson(source), (err) => {
        assert.ok(err instanceof OffloadError, err.stack)
        assert.equal(err.code, 'ERR_OFFLOAD_PARSE')
        assert.ok(range[0] <= err.offset && err.offset <= range[1], `${JSON.stringify(doc)}: offset ${err.offset}, expected [${range}] (${err.message})`)
        assert.deepEqual({ line: err.line, column: err.column }, position(Buffer.from(doc), err.offset), JSON.stringify(doc))
        return true
      })
    }
  }
  for (const doc of ['', '   ', '\n']) await assert.rejects(parseJson(doc), { code: 'ERR_OFFLOAD_PARSE' }, JSON.stringify(doc))
  await assert.rejects(parseJson(Buffer.from([0x22, 0x61, 0xff, 0x22])), { code: 'ERR_OFFLOAD_PARSE', offset: 2, line: 1, column: 3 })
})

test('parseJson of a ~30 MB document equals JSON.parse, and the loop keeps ticking meanwhile', async () => {
  const file = path.join(dir, 'orders.json')
  writeOrders(file, 'json', rowsFor('json', 30e6))
  const buf = fs.readFileSync(file)
  assert.ok(buf.length > 28e6, `${buf.length} bytes`)
  const want = JSON.parse(buf.toString())
  const { result, maxDelayMs } = await maxLoopDelay(() => parseJson({ path: file }))
  assert.ok(maxDelayMs < 100, `the loop stalled ${maxDelayMs.toFixed(1)} ms`)
  assert.equal(result.length, want.length)
  assert.deepEqual(result, want)
  assert.deepEqual(Object.keys(result[want.length - 1]), Object.keys(want[want.length - 1]))
  const fromBuffer = await maxLoopDelay(() => parseJson(buf))
  assert.ok(fromBuffer.maxDelayMs < 100, `the loop stalled ${fromBuffer.maxDelayMs.toFixed(1)} ms (Buffer)`)
  assert.deepEqual(fromBuffer.result, want)

  // Aborted while it decodes: AbortError with the reason.
  const ac = new AbortController()
  const p = parseJson({ path: file }, { signal: ac.signal })
  setImmediate(() => ac.abort('enough'))
  await assert.rejects(p, (err) => err instanceof AbortError && err.cause === 'enough')
})

test('bad options: parseNdjson throws synchronously, parseJson rejects', async () => {
  const ndjsonBad = [[{ batchRows: 0 }, 'ERR_OUT_OF_RANGE'], [{ batchRows: 1.5 }, 'ERR_OUT_OF_RANGE'], [{ batchBytes: -1 }, 'ERR_OUT_OF_RANGE'],
    [{ maxRowBytes: 0 }, 'ERR_OUT_OF_RANGE'], [{ encoding: 'utf16' }, 'ERR_INVALID_ARG_VALUE'], [{ onError: 'ignore' }, 'ERR_INVALID_ARG_VALUE'],
    [{ batchRows: '5' }, 'ERR_INVALID_ARG_TYPE'], [{ signal: 'x' }, 'ERR_INVALID_ARG_TYPE'], [{ priority: 'urgent' }, 'ERR_INVALID_ARG_VALUE']]
  const wrong = []
  for (const [options, code] of ndjsonBad) {
    try {
      parseNdjson('1\n', options)
      wrong.push(`parseNdjson ${JSON.stringify(options)}: accepted, expected ${code}`)
    } catch (err) {
      if (err.code !== code || !err.message.includes(Object.keys(options)[0])) wrong.push(`parseNdjson ${JSON.stringify(options)}: ${err.code} ${err.message}`)
    }
  }
  for (const source of [42, null, undefined, { path: 1 }]) assert.throws(() => parseNdjson(source), { code: 'ERR_INVALID_ARG_TYPE' }, String(source))

  const jsonBad = [[{ encoding: 'utf16' }, 'ERR_INVALID_ARG_VALUE'], [{ maxBytes: 0 }, 'ERR_OUT_OF_RANGE'], [{ maxBytes: '1' }, 'ERR_INVALID_ARG_TYPE'],
    [{ signal: {} }, 'ERR_INVALID_ARG_TYPE'], [{ priority: 'urgent' }, 'ERR_INVALID_ARG_VALUE']]
  for (const [options, code] of jsonBad) {
    let p
    assert.doesNotThrow(() => { p = parseJson('1', options) }, JSON.stringify(options))
    await p.then(() => wrong.push(`parseJson ${JSON.stringify(options)}: resolved, expected ${code}`),
      (err) => { if (err.code !== code) wrong.push(`parseJson ${JSON.stringify(options)}: ${err.code} ${err.message}`) })
  }
  assert.deepEqual(wrong, [])
  for (const source of [42, null, { path: 1 }]) {
    let p
    assert.doesNotThrow(() => { p = parseJson(source) })
    await assert.rejects(p, { code: 'ERR_INVALID_ARG_TYPE' }, String(source))
  }
  // maxBytes: a bigger document is refused (whichever code), a smaller one is read.
  await assert.rejects(parseJson('[' + '1,'.repeat(1000) + '1]', { maxBytes: 100 }))
  assert.deepEqual(await parseJson('[1,2]', { maxBytes: 100 }), [1, 2])
})
