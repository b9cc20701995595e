'use strict'
// parseCsv (issue 18) against csv-parse 7 as the oracle, and against the fields the generator
// wrote: every dialect option, shapes, casts, batch sizes, every kind of source (down to 1-3
// byte chunks that split UTF-8 sequences, CRLFs and quoted newlines), hand-written RFC 4180
// corner cases, errors with their position after the good rows before them, onError: 'skip',
// and option validation. Lifecycle (break, abort, big files) is in parse-stream.test.js.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable } = require('node:stream')
const { execFile } = require('node:child_process')
const { pathToFileURL } = require('node:url')
const { parse: csvParseStream } = require('csv-parse')
const { parseCsv, OffloadError } = require('..')
const { genCsv, csvOracle, castValue, collect, rowsOf, tinyChunks, tinyReadable, position, ordersCsv, prng } = require('./helpers/parse')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-parse-csv-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

const toObjects = (names, records) => records.map((r) => Object.fromEntries(r.map((v, i) => [names[i], v])))

// Rows of parseCsv, and its stats checked against them and the input's size.
async function ours(input, options) {
  const stream = parseCsv(input, options)
  const rows = await rowsOf(stream)
  assert.equal(stream.stats.rows, rows.length, 'stats.rows')
  assert.equal(stream.stats.skipped, 0, 'stats.skipped')
  if (typeof input === 'string' || input instanceof Uint8Array) {
    assert.equal(stream.stats.bytes, typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength, 'stats.bytes')
  }
  return rows
}

const DIALECTS = {
  'LF': {},
  'CRLF': { gen: { eol: '\r\n' } },
  'no final newline': { gen: { final: false } },
  "delimiter ';'": { opts: { delimiter: ';' } },
  "delimiter '\\t'": { opts: { delimiter: '\t' } },
  "quote \"'\"": { opts: { quote: "'" } },
  "escape '\\\\'": { opts: { escape: '\\' } },
  "comment '#'": { opts: { comment: '#' } },
}

// Comment lines before the first line and after every 7th, one with quotes and delimiters,
// one a lone '#': none may become a record, and a '#' inside a field or a quoted line stays data.
function withComments(lines, eol) {
  const out = ['# leading comment, with "a quote']
  lines.forEach((l, i) => { out.push(l); if (i % 7 === 3) out.push(i % 2 ? '#' : '# x,y,"z') })
  return out.join(eol) + eol
}

test('generated CSV equals csv-parse and the written fields, as arrays and as objects (true and a names array)', async () => {
  for (const [name, { gen = {}, opts = {} }] of Object.entries(DIALECTS)) {
    for (const seed of [1, 2, 3]) {
      const g = genCsv({ seed, rows: 300, ...opts, ...gen })
      const text = opts.comment ? withComments(g.lines, gen.eol ?? '\n') : g.text
      assert.deepEqual(csvOracle(text, opts), g.records, `the oracle agrees with the generator (${name})`)
      assert.deepEqual(await ours(Buffer.from(text), opts), g.records, `${name} arrays, seed ${seed}`)
      if (seed === 1) assert.deepEqual(await rowsOf(parseCsv(tinyReadable(Buffer.from(text), 11), opts)), g.records, `${name} from 1-3 byte chunks`)

      const named = { ...opts, columns: g.names }
      assert.deepEqual(await ours(Buffer.from(text), named), toObjects(g.names, g.records), `${name} explicit columns, seed ${seed}`)

      const h = genCsv({ seed, rows: 100, header: true, ...opts, ...gen })
      const htext = opts.comment ? withComments(h.lines, gen.eol ?? '\n') : h.text
      const expected = csvOracle(htext, { ...opts, columns: true })
      assert.deepEqual(expected, toObjects(h.names, h.records))
      assert.deepEqual(await ours(Buffer.from(htext), { ...opts, columns: true }), expected, `${name} columns: true, seed ${seed}`)
    }
  }
})

test('rows are plain arrays and plain objects', async () => {
  const [[arr], [obj]] = [await ours('a,b\n', {}), await ours('a,b\n1,2\n', { columns: true })]
  assert.ok(Array.isArray(arr))
  assert.equal(Object.getPrototypeOf(obj), Object.prototype)
  assert.deepEqual(Object.keys(obj), ['a', 'b'])
})

test('a BOM is stripped by default (csv-parse bom: true) and kept with bom: false', async () => {
  const g = genCsv({ seed: 5, rows: 50, header: true })
  const text = '\ufeff' + g.text
  const stripped = csvOracle(text, { columns: true })
  assert.deepEqual(Object.keys(stripped[0]), g.names)
  assert.deepEqual(await ours(Buffer.from(text), { columns: true }), stripped)
  assert.deepEqual(await ours(text, { columns: true }), stripped, 'a string source')
  const kept = csvOracle(text, { columns: true, bom: false })
  assert.equal(Object.keys(kept[0])[0], '\ufeffcol0')
  assert.deepEqual(await ours(Buffer.from(text), { columns: true, bom: false }), kept)
  assert.deepEqual(await ours(Buffer.from('\ufeffa,b\n'), {}), [['a', 'b']])
  assert.deepEqual(await ours(Buffer.from('\ufeff'), {}), [])
})

test('skipEmptyLines drops empty LF and CRLF lines as csv-parse skip_empty_lines does', async () => {
  for (const eol of ['\n', '\r\n']) {
    const g = genCsv({ seed: 8, rows: 200, eol })
    const text = eol + g.lines.map((l, i) => (i % 5 === 0 ? l + eol + eol : l)).join(eol) + eol + eol
    const expected = csvOracle(text, { skipEmptyLines: true })
    assert.deepEqual(expected, g.records)
    assert.deepEqual(await ours(Buffer.from(text), { skipEmptyLines: true }), expected)
    const withHeader = 'h1,h2,h3,h4,h5' + eol + eol + text
    assert.deepEqual(await ours(withHeader, { skipEmptyLines: true, columns: true }), csvOracle(withHeader, { skipEmptyLines: true, columns: true }))
    // Kept, an empty line is a row of one empty field.
    assert.deepEqual(await ours(text, { relaxColumnCount: true }), csvOracle(text, { relaxColumnCount: true }))
  }
})

test('relaxColumnCount accepts rows of any length, as csv-parse relax_column_count does, with and without columns', async () => {
  const rnd = prng(11)
  const records = Array.from({ length: 300 }, (_, r) => Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, c) => `r${r}c${c}${c % 3 ? ',' : 'é'}`))
  const body = records.map((r) => r.map((f) => (f.includes(',') ? `"${f}"` : f)).join(',')).join('\r\n') + '\r\n'
  const o = { relaxColumnCount: true }
  assert.deepEqual(csvOracle(body, o), records)
  assert.deepEqual(await ours(Buffer.from(body), o), records)
  const text = 'a,b,c\r\n' + body
  assert.deepEqual(await ours(Buffer.from(text), { ...o, columns: true }), csvOracle(text, { ...o, columns: true }))
  assert.deepEqual(await ours(Buffer.from(body), { ...o, columns: ['x', 'y', 'z'] }), csvOracle(body, { ...o, columns: ['x', 'y', 'z'] }))
})

// Fields that look like numbers or booleans, and near misses that must stay strings.
const CASTS = ['0', '-0', '+1', '1.', '.5', '-.5', '1e3', '1E-3', '-2.5e+10', '00012', '12345678901234567890',
  '1e400', '-1e400', '1e-400', '0.1', '9007199254740993', 'true', 'false', 'True', 'FALSE', 'NaN', 'Infinity',
  '0x10', '1_0', ' 1', '1 ', '', 'abc', '1e', 'e1', '.', '-', '+.5e1', '1.2.3', '١٢', '２']

test('cast: true turns the brief\'s decimal numbers and true/false into values, everything else stays a string', async () => {
  const rnd = prng(3)
  const records = Array.from({ length: 400 }, () => Array.from({ length: 4 }, () => CASTS[Math.floor(rnd() * CASTS.length)]))
  records.push([...CASTS.slice(0, 4)], ['', '', '', ''])
  for (let i = 0; i < CASTS.length; i++) records.push([CASTS[i], 'x', CASTS[CASTS.length - 1 - i], 'y'])
  const text = 'a,b,c,d\n' + records.map((r) => r.join(',')).join('\n') + '\n'
  const expected = records.map((r) => r.map(castValue))
  assert.deepEqual(csvOracle(text, { cast: true, columns: true }), toObjects(['a', 'b', 'c', 'd'], expected))
  assert.deepEqual(await ours(Buffer.from(text), { cast: true, columns: true }), toObjects(['a', 'b', 'c', 'd'], expected))
  const arrays = await ours(Buffer.from(text), { cast: true })
  assert.deepEqual(arrays.slice(1), expected, 'arrays')
  assert.deepEqual(arrays[0], ['a', 'b', 'c', 'd'])
  assert.ok(Object.is((await ours('-0\n', { cast: true }))[0][0], -0), '-0 is kept')
})

const ORDER_CAST = { id: 'number', date: 'date', quantity: 'number', price: 'number' }
const typedOrder = ([id, date, customer, city, item, quantity, price]) => ({ id, date: new Date(date), customer, city, item, quantity, price })

test('a cast map (number, date) on the orders data equals the values written, and csv-parse with the same cast', async () => {
  const o = ordersCsv(5000)
  const expected = o.truth.map(typedOrder)
  assert.deepEqual(csvOracle(o.text, { columns: true, cast: ORDER_CAST }), expected)
  assert.deepEqual(await ours(Buffer.from(o.text), { columns: true, cast: ORDER_CAST }), expected)
  // Without names the map is by index, as a string.
  const body = o.text.slice(o.text.indexOf('\n') + 1)
  const byIndex = await ours(body, { cast: { 0: 'number', 1: 'date', 5: 'number', 6: 'number' } })
  assert.deepEqual(byIndex, o.truth.map((r) => Object.values(typedOrder(r))))
})

test('a cast map: number, boolean, date, string; empty numbers and dates are null', async () => {
  const dates = ['2025-03-04', '2025-03-04T05:06:07Z', '2025-03-04T05:06:07.123Z', '2025-03-04T05:06:07+02:00',
    '2025-03-04T05:06:07.500-01:30', '2024-02-29T12:00Z', '1970-01-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2025-03', '2025']
  const lines = dates.map((d, i) => `${CASTS[i]},${d},${i % 2 ? 'true' : 'false'},${i}`)
  lines.push(',,true,', '"12",,false,""')
  const text = 'n,d,b,s\n' + lines.join('\n') + '\n'
  const cast = { n: 'number', d: 'date', b: 'boolean', s: 'string' }
  const expected = csvOracle(text, { columns: true, cast })
  assert.deepEqual(expected.at(-2), { n: null, d: null, b: true, s: '' })
  assert.deepEqual(await ours(Buffer.from(text), { columns: true, cast }), expected)
})

// ISO 8601 and new Date() allow these, ECMAScript's strict date format does not: other numbers
// of fraction digits, a six-digit year.
test("a cast map 'date' takes ISO forms beyond ECMAScript's strict format as new Date() does", async () => {
  const dates = ['2025-03-04T05:06:07.5-01:30', '2025-03-04T05:06:07.12Z', '2025-03-04T05:06:07.123456Z', '+002025-03-04']
  const text = 'd\n' + dates.join('\n') + '\n'
  const rows = await ours(text, { columns: true, cast: { d: 'date' } })
  assert.deepEqual(rows, dates.map((d) => ({ d: new Date(d) })))
})

// A date-time without an offset is local time and a date alone is UTC, as new Date() reads
// them: checked in a child with its own TZ (DST gap and overlap included).
test("a cast map 'date' reads local date-times in the process's time zone as new Date() does", async () => {
  const dates = ['2025-03-04T05:06:07', '2025-07-04T05:06', '2025-03-09T02:30:00', '2025-11-02T01:30:00.250', '2025-03-04']
  const script = `const { parseCsv } = require(${JSON.stringify(path.join(__dirname, '..'))});
    (async () => {
      const out = [];
      for await (const b of parseCsv(${JSON.stringify('d\n' + dates.join('\n') + '\n')}, { columns: true, cast: { d: 'date' } })) out.push(...b);
      console.log(JSON.stringify(out.map((r, i) => [r.d instanceof Date ? r.d.getTime() : String(r.d), new Date(${JSON.stringify(dates)}[i]).getTime()])));
    })()`
  for (const tz of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
    const stdout = await new Promise((resolve, reject) => execFile(process.execPath, ['-e', script], { env: { ...process.env, TZ: tz } },
      (err, out, stderr) => (err ? reject(new Error(stderr)) : resolve(out))))
    for (const [got, want] of JSON.parse(stdout)) assert.equal(got, want, tz)
  }
})

// Columns of a 'columns' batch, concatenated: Float64Array contents as plain arrays.
function concatColumns(batches, names) {
  const out = Object.fromEntries(names.map((n) => [n, []]))
  for (const batch of batches) {
    assert.deepEqual(Object.keys(batch), names)
    const len = batch[names[0]].length
    for (const n of names) {
      assert.equal(batch[n].length, len, `column ${n} has the batch's length`)
      out[n].push(...batch[n])
    }
  }
  return out
}

test("shape 'columns': Float64Array for number columns of the cast map (empty is NaN), arrays for the others", async () => {
  const o = ordersCsv(3000)
  const { batches } = await collect(parseCsv(Buffer.from(o.text), { columns: true, cast: ORDER_CAST, shape: 'columns', batchRows: 1000, batchBytes: 1 << 30 }))
  assert.deepEqual(batches.map((b) => b.id.length), [1000, 1000, 1000])
  for (const b of batches) {
    for (const n of ['id', 'quantity', 'price']) assert.ok(b[n] instanceof Float64Array, `${n} is a Float64Array`)
    for (const n of ['date', 'customer', 'city', 'item']) assert.ok(Array.isArray(b[n]), `${n} is an array`)
  }
  const cols = concatColumns(batches, o.columns)
  o.columns.forEach((n, i) => assert.deepEqual(cols[n], o.truth.map((r) => (n === 'date' ? new Date(r[i]) : r[i])), n))

  const text = 'n,s,m\n1,a,x\n,b,\n-0,,2.5\n'
  const { batches: [b] } = await collect(parseCsv(text, { columns: true, cast: { n: 'number' }, shape: 'columns' }))
  assert.deepEqual(Array.from(b.n), [1, NaN, -0])
  assert.deepEqual(b.s, ['a', 'b', ''])
  assert.deepEqual(b.m, ['x', '', '2.5'], 'uncast columns stay strings')
  const { batches: [c] } = await collect(parseCsv(text, { columns: true, cast: true, shape: 'columns' }))
  assert.ok(Array.isArray(c.n), 'cast: true gives arrays')
  assert.deepEqual(c.m, ['x', '', 2.5])
})

test('batchRows: every batch has exactly that many rows but the last', async () => {
  const g = genCsv({ seed: 21, rows: 1050, header: true })
  for (const [batchRows, sizes] of [[100, [...Array(10).fill(100), 50]], [1, Array(1050).fill(1)], [5000, [1050]], [1050, [1050]], [525, [525, 525]]]) {
    const { batches, error } = await collect(parseCsv(Buffer.from(g.text), { columns: true, batchRows }))
    assert.ifError(error)
    assert.deepEqual(batches.map((b) => b.length), sizes, `batchRows ${batchRows}`)
    assert.deepEqual(batches.flat(), toObjects(g.names, g.records))
  }
  const tiny = await collect(parseCsv(tinyReadable(Buffer.from(g.text)), { columns: true, batchRows: 64 }))
  assert.deepEqual(tiny.batches.map((b) => b.length), [...Array(16).fill(64), 26], 'from 1-3 byte chunks')
})

// A batch ends at the first row end after `batchBytes` input bytes: without its last row it
// is below the bound, with it at or above (the last batch excepted).
function checkBatchBytes(batches, rowBytes, batchBytes) {
  let i = 0
  batches.forEach((batch, b) => {
    const sizes = rowBytes.slice(i, i + batch.length)
    i += batch.length
    const total = sizes.reduce((s, n) => s + n, 0)
    assert.ok(total - sizes.at(-1) <= batchBytes, `batch ${b} (${batch.length} rows, ${total} B) went on past ${batchBytes} B`)
    if (b < batches.length - 1) assert.ok(total >= batchBytes, `batch ${b} (${total} B) ended before ${batchBytes} B`)
  })
  assert.equal(i, rowBytes.length)
}

test('batchBytes (and its 32 KiB default) ends a batch at the first row end after that many bytes', async () => {
  for (const [rows, batchBytes] of [[2000, 4096], [2000, 1000], [60_000, undefined]]) {
    const g = genCsv({ seed: 4, rows, eol: '\r\n' })
    const rowBytes = g.lines.map((l) => Buffer.byteLength(l) + 2)
    const { batches, error } = await collect(parseCsv(Buffer.from(g.text), batchBytes === undefined ? {} : { batchBytes }))
    assert.ifError(error)
    assert.ok(batches.length > 1, `${batches.length} batches`)
    checkBatchBytes(batches, rowBytes, batchBytes ?? 32768)
    assert.deepEqual(batches.flat(), g.records)
  }
  const one = await collect(parseCsv('a,b\n', { batchBytes: 1 }))
  assert.deepEqual(one.batches, [[['a', 'b']]])
})

// Every way of handing over the same bytes gives the same rows.
test('every source gives the same rows: Buffer, Uint8Array, string, Readable (7-byte and 1-3 byte chunks), AsyncIterable of strings, { path }', async () => {
  const g = genCsv({ seed: 17, rows: 400, header: true, eol: '\r\n', forceQuote: 0.3 })
  const buf = Buffer.from(g.text)
  const expected = csvOracle(g.text, { columns: true })
  assert.deepEqual(expected, toObjects(g.names, g.records))
  const file = path.join(dir, 'sources.csv')
  fs.writeFileSync(file, buf)

  // The tiny chunks really do split a UTF-8 sequence, a CRLF and a quoted field.
  const chunks = tinyChunks(buf, 1)
  assert.ok(chunks.some((c) => c.at(-1) >= 0xc0), 'a chunk ends inside a UTF-8 sequence')
  assert.ok(chunks.some((c, i) => c.at(-1) === 0x0d && chunks[i + 1]?.[0] === 0x0a), 'a chunk ends inside a CRLF')

  const u8 = new Uint8Array(new ArrayBuffer(buf.length + 8), 3, buf.length)
  u8.set(buf)
  // Cut between code points: a string chunk cannot hold half a surrogate pair's UTF-8.
  const chars = Array.from(g.text)
  const pieces = (n) => Array.from({ length: Math.ceil(chars.length / n) }, (_, i) => chars.slice(i * n, i * n + n).join(''))
  async function * strings() {
    for (let i = 0; i < chars.length;) { const n = 1 + (i % 3); yield chars.slice(i, i + n).join(''); i += n }
  }
  const sources = {
    Buffer: () => buf,
    'Uint8Array at an offset': () => u8,
    string: () => g.text,
    'fs.createReadStream, highWaterMark 7': () => fs.createReadStream(file, { highWaterMark: 7 }),
    'Readable.from(1-3 byte Buffers) seed 1': () => tinyReadable(buf, 1),
    'Readable.from(1-3 byte Buffers) seed 2': () => tinyReadable(buf, 2),
    'Readable.from(1-3 byte Buffers) seed 3': () => tinyReadable(buf, 3),
    'AsyncIterable of 1-3 byte Uint8Arrays': () => (async function * () { for (const c of tinyChunks(buf, 4)) yield new Uint8Array(c) })(),
    'AsyncIterable of strings': () => strings(),
    'Readable of 997-character strings': () => Readable.from(pieces(997)),
    '{ path: string }': () => ({ path: file }),
    '{ path: Buffer }': () => ({ path: Buffer.from(file) }),
    '{ path: URL }': () => ({ path: pathToFileURL(file) }),
  }
  for (const [name, make] of Object.entries(sources)) {
    const stream = parseCsv(make(), { columns: true })
    assert.deepEqual(await rowsOf(stream), expected, name)
    assert.equal(stream.stats.rows, expected.length, `${name}: stats.rows`)
    assert.equal(stream.stats.bytes, buf.length, `${name}: stats.bytes`)
  }
})

test('an 8 MB orders file: from { path } equal to streaming csv-parse row by row, from a Readable to the values written', async () => {
  const file = path.join(dir, 'orders.csv')
  const o = ordersCsv(120_000)
  fs.writeFileSync(file, o.text)
  const theirs = fs.createReadStream(file).pipe(csvParseStream({ columns: true, record_delimiter: ['\r\n', '\n'] }))[Symbol.asyncIterator]()
  let n = 0
  for await (const batch of parseCsv({ path: file }, { columns: true })) {
    for (const row of batch) {
      const { value } = await theirs.next()
      if (n++ % 1000 === 0 || JSON.stringify(row) !== JSON.stringify(value)) assert.deepEqual(row, value, `row ${n}`)
    }
  }
  assert.equal((await theirs.next()).done, true)
  assert.equal(n, o.truth.length)
  n = 0
  for await (const batch of parseCsv(fs.createReadStream(file), { columns: true })) {
    for (const row of batch) {
      const want = Object.fromEntries(o.columns.map((c, i) => [c, String(o.truth[n][i])]))
      if (n++ % 1000 === 0 || JSON.stringify(row) !== JSON.stringify(want)) assert.deepEqual(row, want, `row ${n}`)
    }
  }
  assert.equal(n, o.truth.length)
})

test('encoding latin1: every byte is a character, as Buffer latin1 decoding gives it', async () => {
  const rnd = prng(9)
  const field = () => Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => String.fromCharCode(0x20 + Math.floor(rnd() * 0xe0))).join('')
  const records = Array.from({ length: 300 }, () => [field(), field(), field()])
  const text = records.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n'
  const bytes = Buffer.from(text, 'latin1')
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes), 'the bytes are not UTF-8')
  assert.deepEqual(csvOracle(bytes, { encoding: 'latin1' }), records)
  assert.deepEqual(await ours(bytes, { encoding: 'latin1' }), records)
  assert.deepEqual(await rowsOf(parseCsv(tinyReadable(bytes), { encoding: 'latin1' })), records)
})

// Hand-written RFC 4180 corner cases: [input, options, rows]. Each is also checked against csv-parse.
const CORNERS = [
  ['', {}, []],
  ['a,b\n', {}, [['a', 'b']]],
  ['a,b', {}, [['a', 'b']]],
  ['a,b\n', { columns: true }, []],
  ['a,b', { columns: true }, []],
  ['a,b\r\n1,2\r\n', { columns: true }, [{ a: '1', b: '2' }]],
  ['a,b\r\n1,2', { columns: true }, [{ a: '1', b: '2' }]],
  ['"",x\n', {}, [['', 'x']]],
  ['x,""\n', {}, [['x', '']]],
  ['"""",x\n', {}, [['"', 'x']]],
  ['""""', {}, [['"']]],
  ['a,\n', {}, [['a', '']]],
  ['a,', {}, [['a', '']]],
  [',\n,\n', {}, [['', ''], ['', '']]],
  ['\n', {}, [['']]],
  ['\n', { skipEmptyLines: true }, []],
  ['\r\n\r\n', { skipEmptyLines: true }, []],
  ['"a\rb",c\n', {}, [['a\rb', 'c']]],
  ['a\rb,c\n', {}, [['a\rb', 'c']]],
  ['a\r\rb\r\n', {}, [['a\r\rb']]],
  ['a,b\r', {}, [['a', 'b\r']]],
  [' a , b \n', {}, [[' a ', ' b ']]],
  ['\t a\t,b \n', {}, [['\t a\t', 'b ']]],
  ['"a\nb"', {}, [['a\nb']]],
  ['"a\r\nb",c\r\n', {}, [['a\r\nb', 'c']]],
  ['"a\n\nb"\n', {}, [['a\n\nb']]],
  ['a,"b,c"\n', {}, [['a', 'b,c']]],
  ['"a""b"""\n', {}, [['a"b"']]],
  ['"a,b"\n', { quote: false }, [['"a', 'b"']]],
  ['a"b,c\n', { quote: false }, [['a"b', 'c']]],
  ["'a,''b',c\n", { quote: "'" }, [["a,'b", 'c']]],
  ['"a\\"b\\\\",c\n', { escape: '\\' }, [['a"b\\', 'c']]],
  ['a;b,c\n', { delimiter: ';' }, [['a', 'b,c']]],
  ['#only a comment\n', { comment: '#' }, []],
  ['a,#b\n', { comment: '#' }, [['a', '#b']]],
  ['"#a",b\n', { comment: '#' }, [['#a', 'b']]],
  ['"x\n#y",z\n', { comment: '#' }, [['x\n#y', 'z']]],
  ['h\n\ufeffx\n', { columns: true }, [{ h: '\ufeffx' }]],
  ['中,😀\n𝄞,é', {}, [['中', '😀'], ['𝄞', 'é']]],
]

test('hand-written RFC 4180 corner cases', async () => {
  for (const [input, options, expected] of CORNERS) {
    const label = `${JSON.stringify(input)} ${JSON.stringify(options)}`
    assert.deepEqual(csvOracle(input, options), expected, `csv-parse on ${label}`)
    assert.deepEqual(await ours(Buffer.from(input), options), expected, label)
    assert.deepEqual(await ours(input, options), expected, `${label} (string)`)
  }
})

// Errors. The text before the bad record: 300 good rows, some with quoted newlines (so `line`
// must count physical lines, not records); the bad record is on line L.
const P = genCsv({ seed: 31, rows: 300, cols: 3 })
const PB = Buffer.byteLength(P.text)
const L = P.text.split('\n').length
const AFTER = 'x,y,z\nu,v,w\n'

// Every source and batch size must stop at the same error, with the rows before it delivered.
async function expectError(input, options, { rows, offset, line }) {
  const buf = Buffer.from(input)
  for (const [name, make] of [['Buffer', () => buf], ['1-3 byte chunks', () => tinyReadable(buf, 5)]]) {
    for (const batchRows of [undefined, 7]) {
      const label = `${name}, batchRows ${batchRows}`
      const stream = parseCsv(make(), { ...options, batchRows })
      const { rows: got, error } = await collect(stream)
      assert.ok(error, `${label}: no error`)
      assert.ok(error instanceof OffloadError, `${label}: ${error.stack}`)
      assert.equal(error.code, 'ERR_OFFLOAD_PARSE', label)
      assert.deepEqual(got, rows, `${label}: the good rows before the error`)
      assert.equal(stream.stats.rows, rows.length, `${label}: stats.rows`)
      for (const k of ['line', 'column', 'offset']) assert.equal(typeof error[k], 'number', `${label}: ${k}`)
      if (Array.isArray(offset)) {
        assert.ok(offset[0] <= error.offset && error.offset <= offset[1], `${label}: offset ${error.offset} not in [${offset}] (${error.message})`)
      } else {
        assert.ok([offset].flat().includes(error.offset) || offset.oneOf?.includes(error.offset), `${label}: offset ${error.offset}, expected ${JSON.stringify(offset)} (${error.message})`)
      }
      const at = position(buf, error.offset)
      assert.equal(error.line, line ?? at.line, `${label}: line (${error.message})`)
      assert.deepEqual({ line: error.line, column: error.column }, at, `${label}: line and column of offset ${error.offset}`)
    }
  }
}

const before = (bad) => PB + Buffer.byteLength(bad)
const rowRange = (bad) => [PB, PB + Buffer.byteLength(bad) - 1]
const INVALID_UTF8 = { 'byte 0xff': [0xff], 'a lone continuation byte': [0x80], 'an overlong /': [0xc0, 0xaf],
  'a UTF-16 surrogate': [0xed, 0xa0, 0x80], 'above U+10FFFF': [0xf4, 0x90, 0x80, 0x80], 'a truncated sequence': [0xe4, 0xb8] }

test('errors carry line, column and offset, after every good row before them', async () => {
  await expectError(P.text + 'é中,ab"c,x\n' + AFTER, {}, { rows: P.records, offset: before('é中,ab'), line: L })
  await expectError(P.text + '"é"q,x,y\n' + AFTER, {}, { rows: P.records, offset: before('"é"'), line: L })
  await expectError(P.text + 'a,b\n' + AFTER, {}, { rows: P.records, offset: rowRange('a,b\n'), line: L })
  await expectError(P.text + 'a,b,c,d\n' + AFTER, {}, { rows: P.records, offset: rowRange('a,b,c,d\n'), line: L })
  await expectError(P.text + '\n' + AFTER, {}, { rows: P.records, offset: rowRange('\n'), line: L })
  await expectError(P.text + 'x,"abc\ndef,g', {}, { rows: P.records, offset: { oneOf: [before('x,'), before('x,"abc\ndef,g')] } })
  const header = 'c0,c1,c2\n'
  await expectError(header + P.text + 'a,b\n' + AFTER, { columns: true }, { rows: toObjects(['c0', 'c1', 'c2'], P.records), offset: rowRange('a,b\n').map((n) => n + header.length), line: L + 1 })
  await expectError(P.text + 'a,b,c,d\n' + AFTER, { columns: ['c0', 'c1', 'c2'] }, { rows: toObjects(['c0', 'c1', 'c2'], P.records), offset: rowRange('a,b,c,d\n'), line: L })
})

test('invalid UTF-8 is an error at its first byte, never replaced', async () => {
  for (const [name, seq] of Object.entries(INVALID_UTF8)) {
    const bad = Buffer.concat([Buffer.from(P.text + 'ok,é'), Buffer.from(seq), Buffer.from(',x\n' + AFTER)])
    await expectError(bad, {}, { rows: P.records, offset: before('ok,é'), line: L })
    const quoted = Buffer.concat([Buffer.from(P.text + '"a\n'), Buffer.from(seq), Buffer.from('",b,c\n' + AFTER)])
    await expectError(quoted, {}, { rows: P.records, offset: before('"a\n'), line: L + 1 })
    const escaped = Buffer.concat([Buffer.from(P.text + '"a""b'), Buffer.from(seq), Buffer.from('",b,c\n' + AFTER)])
    await expectError(escaped, {}, { rows: P.records, offset: before('"a""b'), line: L })
    assert.deepEqual(await rowsOf(parseCsv(bad, { encoding: 'latin1', relaxColumnCount: true })), csvOracle(bad, { encoding: 'latin1', relaxColumnCount: true }), `${name} is fine in latin1`)
  }
  await expectError(Buffer.concat([Buffer.from(P.text + 'x,y,'), Buffer.from([0xe4, 0xb8])]), {}, { rows: P.records, offset: before('x,y,'), line: L })
})

test('a row longer than maxRowBytes is an error on its line', async () => {
  assert.ok(P.lines.every((l) => Buffer.byteLength(l) < 200))
  const long = 'x,' + 'y'.repeat(2000) + ',z\n'
  await expectError(P.text + long + AFTER, { maxRowBytes: 256 }, { rows: P.records, offset: rowRange(long), line: L })
  // A long row of short lines: the position may be where it starts or where it passed the limit.
  const tall = '"' + 'ab\n'.repeat(300) + '",1,2\n'
  await expectError(P.text + tall + AFTER, { maxRowBytes: 256 }, { rows: P.records, offset: [PB, PB + 257] })
  assert.deepEqual(await rowsOf(parseCsv(P.text + long, { maxRowBytes: 4096 })), [...P.records, ['x', 'y'.repeat(2000), 'z']])
  for (const [name, make] of [['Buffer', () => Buffer.from(P.text + long + AFTER)], ['1-3 byte chunks', () => tinyReadable(Buffer.from(P.text + long + AFTER))]]) {
    const skipped = parseCsv(make(), { maxRowBytes: 256, onError: 'skip' })
    assert.deepEqual(await rowsOf(skipped), [...P.records, ['x', 'y', 'z'], ['u', 'v', 'w']], `${name}: skipped`)
    assert.equal(skipped.stats.skipped, 1, name)
  }
})

test('a cast map value of the wrong kind is an error on its line', async () => {
  const good = Array.from({ length: 300 }, (_, i) => `${i},"x\ny${i}",${i % 2 ? 'true' : 'false'},2025-01-0${1 + (i % 9)}`)
  const text = 'a,b,c,d\n' + good.join('\n') + '\n'
  const cast = { a: 'number', c: 'boolean', d: 'date' }
  const rows = csvOracle(text, { columns: true, cast })
  const at = Buffer.byteLength(text)
  const lineOf = text.split('\n').length
  for (const bad of ['zz,b,true,2025-01-01\n', '1,b,yes,2025-01-01\n', '1,b,true,not a date\n']) {
    const range = [at, at + bad.length - 1]
    await expectError(text + bad + '7,b,true,2025-01-01\n', { columns: true, cast }, { rows, offset: range, line: lineOf })
  }
})

test("onError: 'skip' skips bad rows of every kind but the long (see maxRowBytes), delivers the rest and counts them in stats.skipped", async () => {
  const bads = ['é中,ab"c,x', '"é"q,x,y', 'a,b', 'a,b,c,d', '',
    ...Object.values(INVALID_UTF8).map((seq) => Buffer.concat([Buffer.from('ok,é'), Buffer.from(seq), Buffer.from(',x')]))]
  const parts = []
  P.lines.forEach((l, i) => {
    parts.push(Buffer.from(l + '\n'))
    if (i % 20 === 5 && bads[(i - 5) / 20] !== undefined) parts.push(Buffer.from(bads[(i - 5) / 20]), Buffer.from('\n'))
  })
  assert.ok((P.lines.length - 5) / 20 > bads.length, 'every bad row is in')
  parts.push(Buffer.from('x,"abc\ndef,g'))
  const input = Buffer.concat(parts)
  for (const [name, make] of [['Buffer', () => input], ['1-3 byte chunks', () => tinyReadable(input, 9)]]) {
    const stream = parseCsv(make(), { onError: 'skip', batchRows: 50 })
    assert.deepEqual(await rowsOf(stream), P.records, name)
    assert.deepEqual(stream.stats, { rows: P.records.length, skipped: bads.length + 1, bytes: input.length }, name)
  }
  const cast = parseCsv('a\n1\nx\n2\n', { columns: true, cast: { a: 'number' }, onError: 'skip' })
  assert.deepEqual(await rowsOf(cast), [{ a: 1 }, { a: 2 }])
  assert.equal(cast.stats.skipped, 1)
})

// The row a stray quote spoils ends in a later chunk: skipping must wait for its newline.
test("onError: 'skip' from a stream whose bad row ends in a later chunk", async () => {
  for (const chunks of [['a,b\nx"', 'y,z\nc,d\n'], ['a,b\nx"y,z', '\nc,d\n'], ['a,b\n"x"y', ',z\nc,d\n'], ['a,b\nc,d,e', '\nc,d\n']]) {
    const stream = parseCsv(Readable.from(chunks.map((c) => Buffer.from(c))), { onError: 'skip' })
    assert.deepEqual(await rowsOf(stream), [['a', 'b'], ['c', 'd']], JSON.stringify(chunks))
    assert.equal(stream.stats.skipped, 1, JSON.stringify(chunks))
  }
})

// [options, code]: thrown synchronously by parseCsv; the message names the option.
const BAD_OPTIONS = [
  [{ delimiter: 44 }, 'ERR_INVALID_ARG_TYPE'], [{ quote: 1 }, 'ERR_INVALID_ARG_TYPE'], [{ quote: true }, 'ERR_INVALID_ARG_TYPE'],
  [{ escape: 1 }, 'ERR_INVALID_ARG_TYPE'], [{ comment: 35 }, 'ERR_INVALID_ARG_TYPE'], [{ bom: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
  [{ skipEmptyLines: 1 }, 'ERR_INVALID_ARG_TYPE'], [{ relaxColumnCount: 'no' }, 'ERR_INVALID_ARG_TYPE'],
  [{ columns: 'a,b' }, 'ERR_INVALID_ARG_TYPE'], [{ columns: 2 }, 'ERR_INVALID_ARG_TYPE'], [{ cast: 'number' }, 'ERR_INVALID_ARG_TYPE'],
  [{ batchRows: '10' }, 'ERR_INVALID_ARG_TYPE'], [{ batchBytes: '1' }, 'ERR_INVALID_ARG_TYPE'], [{ maxRowBytes: '1' }, 'ERR_INVALID_ARG_TYPE'],
  [{ signal: {} }, 'ERR_INVALID_ARG_TYPE'],
  [{ delimiter: '::' }, 'ERR_INVALID_ARG_VALUE'], [{ delimiter: '' }, 'ERR_INVALID_ARG_VALUE'], [{ delimiter: 'é' }, 'ERR_INVALID_ARG_VALUE'],
  [{ quote: 'ab' }, 'ERR_INVALID_ARG_VALUE'], [{ quote: '' }, 'ERR_INVALID_ARG_VALUE'], [{ escape: '\\\\' }, 'ERR_INVALID_ARG_VALUE'],
  [{ comment: '##' }, 'ERR_INVALID_ARG_VALUE'], [{ encoding: 'utf16' }, 'ERR_INVALID_ARG_VALUE'], [{ encoding: 'utf16le' }, 'ERR_INVALID_ARG_VALUE'],
  [{ shape: 'objects' }, 'ERR_INVALID_ARG_VALUE'], [{ shape: 'columns' }, 'ERR_INVALID_ARG_VALUE'], [{ shape: 'rows', columns: true }, 'ERR_INVALID_ARG_VALUE'],
  [{ cast: { a: 'int' }, columns: true }, 'ERR_INVALID_ARG_VALUE'], [{ onError: 'ignore' }, 'ERR_INVALID_ARG_VALUE'],
  [{ priority: 'urgent' }, 'ERR_INVALID_ARG_VALUE'],
  [{ batchRows: 0 }, 'ERR_OUT_OF_RANGE'], [{ batchRows: 1.5 }, 'ERR_OUT_OF_RANGE'], [{ batchRows: -1 }, 'ERR_OUT_OF_RANGE'],
  [{ batchBytes: 0 }, 'ERR_OUT_OF_RANGE'], [{ maxRowBytes: 0 }, 'ERR_OUT_OF_RANGE'], [{ maxRowBytes: 1.5 }, 'ERR_OUT_OF_RANGE'],
]

test('bad options and sources throw synchronously with Node-style codes naming the option', () => {
  const wrong = []
  for (const [options, code] of BAD_OPTIONS) {
    const name = Object.keys(options).find((k) => k !== 'columns') ?? 'columns'
    try {
      parseCsv('a,b\n', options)
      wrong.push(`${JSON.stringify(options)}: accepted, expected ${code}`)
    } catch (err) {
      if (err.code !== code || !err.message.includes(name)) wrong.push(`${JSON.stringify(options)}: ${err.code} ${err.message}, expected ${code}`)
    }
  }
  assert.deepEqual(wrong, [])
  for (const source of [42, null, undefined, true, { path: 42 }]) {
    assert.throws(() => parseCsv(source), { code: 'ERR_INVALID_ARG_TYPE' }, String(source))
  }
  assert.throws(() => parseCsv('a', 'x'), { code: 'ERR_INVALID_ARG_TYPE' }, 'options a string')
  // Good options do not throw.
  parseCsv('a\n', { delimiter: '\t', quote: false, escape: '\\', comment: '#', bom: false, batchRows: 1, batchBytes: 1, maxRowBytes: 1, encoding: 'latin1', onError: 'skip', shape: 'arrays', cast: true })
})
