'use strict'
// Shared pieces of the parse tests (issue 18): a seeded CSV generator that also returns the
// fields it wrote (the ground truth next to csv-parse), the csv-parse oracle with our option
// names mapped onto its own, sources cut into tiny chunks, and a collector that keeps every
// batch delivered before an error.
const { Readable } = require('node:stream')
const { parse: csvParseSync } = require('csv-parse/sync')
const { orders, COLUMNS } = require('../../benchmark/data/orders')
const { prng } = require('../../benchmark/prng')


// Field material: delimiters of every dialect, quotes, CR/LF/CRLF, Latin-1, CJK, an astral
// emoji, spaces and the comment character, so each dialect meets its own specials in the data.
const PIECES = ['a', 'b', 'xyz', '42', ' ', ',', ';', '\t', '"', "'", '""', '\n', '\r\n', 'é', 'ß', 'Ω',
  '中文', '日本', '😀', '𝄞', '#', 'plain text', 'München', '\\']

// Writes one field in the dialect: quoted when it has to be (a delimiter, the quote, the
// escape, CR or LF inside, or a leading comment character) and at random otherwise.
function writeField(s, d, force) {
  const { delimiter, quote, escape, comment } = d
  const needs = s.includes(delimiter) || s.includes(quote) || s.includes('\r') || s.includes('\n') ||
    (escape !== quote && s.includes(escape)) || (comment !== undefined && s.startsWith(comment))
  if (!needs && !force) return s
  let body = ''
  for (const ch of s) body += (ch === quote || ch === escape) ? escape + ch : ch
  return quote + body + quote
}

// A CSV text of `rows` records of `cols` fields (cols >= 2, so no record is an empty line) and
// the fields themselves. Options: the dialect (delimiter, quote, escape, comment), eol '\n' or
// '\r\n', header (names written as the first record), forceQuote (probability of quoting a
// field that need not be), empty (probability of an empty field), final (end with eol).
function genCsv({ seed = 1, rows = 200, cols = 5, delimiter = ',', quote = '"', escape = quote, comment,
  eol = '\n', header = false, forceQuote = 0.15, empty = 0.1, final = true, pieces = PIECES } = {}) {
  const rnd = prng(seed)
  const d = { delimiter, quote, escape, comment }
  const names = Array.from({ length: cols }, (_, i) => `col${i}`)
  const records = []
  for (let r = 0; r < rows; r++) {
    const rec = []
    for (let c = 0; c < cols; c++) {
      if (rnd() < empty) { rec.push(''); continue }
      let s = ''
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) s += pieces[Math.floor(rnd() * pieces.length)]
      rec.push(s)
    }
    records.push(rec)
  }
  const lines = (header ? [names] : []).concat(records)
    .map((rec) => rec.map((f) => writeField(f, d, rnd() < forceQuote)).join(delimiter))
  const text = lines.join(eol) + (final ? eol : '')
  return { text, names, records, lines }
}

// csv-parse with our options translated. Records end at LF or CRLF only (csv-parse would
// otherwise guess one delimiter from the data, and a lone CR is data for us).
function csvOracle(input, o = {}) {
  const opts = { record_delimiter: ['\r\n', '\n'], bom: o.bom !== false }
  if (o.columns !== undefined) opts.columns = o.columns
  if (o.delimiter !== undefined) opts.delimiter = o.delimiter
  if (o.quote !== undefined) opts.quote = o.quote === false ? false : o.quote
  // Our escape defaults to the quote; csv-parse's stays '"' whatever the quote is.
  opts.escape = o.escape ?? (typeof o.quote === 'string' ? o.quote : '"')
  if (o.comment !== undefined) { opts.comment = o.comment; opts.comment_no_infix = true }
  if (o.skipEmptyLines) opts.skip_empty_lines = true
  if (o.relaxColumnCount) opts.relax_column_count = true
  if (o.cast === true) opts.cast = (value, ctx) => (ctx.header ? value : castValue(value))
  else if (o.cast) opts.cast = (value, ctx) => (ctx.header ? value : castByMap(value, ctx, o.cast, o.columns))
  const text = typeof input === 'string' ? input : Buffer.from(input).toString(o.encoding === 'latin1' ? 'latin1' : 'utf8')
  return csvParseSync(text, opts)
}

// The brief's cast: true rule.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
function castValue(s) {
  if (NUMBER.test(s)) return Number(s)
  if (s === 'true') return true
  if (s === 'false') return false
  return s
}

// The brief's cast map: by column name, or by index as a string without names.
function castByMap(s, ctx, map, columns) {
  const key = Array.isArray(columns) || columns === true ? ctx.column : String(ctx.index)
  switch (map[key]) {
    case 'number':
      if (s === '') return null
      if (!NUMBER.test(s)) throw new Error(`not a number: ${s}`)
      return Number(s)
    case 'boolean':
      if (s === 'true') return true
      if (s === 'false') return false
      throw new Error(`not a boolean: ${s}`)
    case 'date': return s === '' ? null : new Date(s)
    default: return s
  }
}

// Every batch up to the end or the first error, the rows flattened, and the error.
async function collect(stream) {
  const batches = []
  let error
  try {
    for await (const batch of stream) batches.push(batch)
  } catch (err) {
    error = err
  }
  return { batches, rows: batches.flat(), error }
}

// The rows of a stream that must end cleanly.
async function rowsOf(stream) {
  const { rows, error } = await collect(stream)
  if (error) throw error
  return rows
}

// `buf` as 1-3 byte Buffers, so chunk ends fall inside UTF-8 sequences, CRLFs and quoted fields.
function tinyChunks(buf, seed = 7) {
  const rnd = prng(seed)
  const out = []
  for (let i = 0; i < buf.length;) {
    const n = 1 + Math.floor(rnd() * 3)
    out.push(Buffer.from(buf.subarray(i, i + n)))
    i += n
  }
  return out
}

function tinyReadable(buf, seed) {
  return Readable.from(tinyChunks(buf, seed), { objectMode: true })
}

// The 1-based line and column (in UTF-16 units, which for BMP text are characters) of the byte
// at `offset` in `buf`: what an error at that byte should report.
function position(buf, offset) {
  const before = Buffer.from(buf.subarray(0, offset))
  const lastLf = before.lastIndexOf(0x0a)
  const line = 1 + before.toString('latin1').split('\n').length - 1
  const column = 1 + before.subarray(lastLf + 1).toString('utf8').length
  return { line, column }
}

// The benchmark's orders data set (benchmark/data/orders.js) as CSV text, and its rows as
// written (numbers as numbers): the ground truth for typed casts.
function ordersCsv(n, seed) {
  const d = { delimiter: ',', quote: '"', escape: '"' }
  const truth = []
  const lines = [COLUMNS.join(',')]
  for (const r of orders(seed)) {
    if (truth.length === n) break
    truth.push(r)
    lines.push(r.map((v) => writeField(String(v), d, false)).join(','))
  }
  return { text: lines.join('\n') + '\n', truth, columns: COLUMNS }
}

module.exports = { prng, genCsv, writeField, csvOracle, castValue, NUMBER, collect, rowsOf, tinyChunks, tinyReadable, position, ordersCsv, COLUMNS }
