'use strict'
// The orders data set of the parsing benchmark (issue 18): 7 columns, quoted fields with
// delimiters, doubled quotes and non-ASCII text, written as CSV, as NDJSON (one object per
// line, numbers as numbers) and as one JSON array. Deterministic (mulberry32), streamed to disk
// so a 1 GiB file never sits in memory.
const fs = require('node:fs')
const { prng } = require('../prng')

const CITIES = ['Berlin', 'São Paulo', 'Zürich', 'Kraków', 'Reykjavík', 'Tōkyō', 'New York, NY', 'Paris']
const ITEMS = ['widget', 'gadget "pro"', 'bolt, M8', 'café crème', 'naïve cable', 'Ω resistor', 'plain']
const NAMES = ['Ana', 'Björn', 'Chloé', 'Dmitrij', 'Émile', 'Fatima', 'Günther', 'Hélène', '李雷', 'Zoë']
const COLUMNS = ['id', 'date', 'customer', 'city', 'item', 'quantity', 'price']

function * orders (seed = 18) {
  const rnd = prng(seed)
  const pick = (list) => list[Math.floor(rnd() * list.length)]
  const day0 = Date.UTC(2025, 0, 1)
  for (let id = 1; ; id++) {
    const date = new Date(day0 + Math.floor(rnd() * 365 * 86400) * 1000).toISOString().slice(0, 19) + 'Z'
    yield [id, date, `${pick(NAMES)} ${pick(NAMES)}`, pick(CITIES), pick(ITEMS), 1 + Math.floor(rnd() * 20), Math.round(rnd() * 100000) / 100]
  }
}

function csvField (v) {
  const s = String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const FORMATS = {
  csv: { head: COLUMNS.join(',') + '\n', row: (r) => r.map(csvField).join(',') + '\n', sep: '', tail: '' },
  ndjson: { head: '', row: (r) => JSON.stringify(Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]]))) + '\n', sep: '', tail: '' },
  json: { head: '[', row: (r) => JSON.stringify(Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]]))), sep: ',\n', tail: ']\n' }
}

/** Writes `rows` rows in `format` to `path` (synchronously, in 1 MiB writes). */
function writeOrders (path, format, rows) {
  const f = FORMATS[format]
  const fd = fs.openSync(path, 'w')
  try {
    let out = f.head
    let n = 0
    for (const r of orders()) {
      if (n === rows) break
      out += (n ? f.sep : '') + f.row(r)
      n++
      if (out.length > 1 << 20) { fs.writeSync(fd, out); out = '' }
    }
    fs.writeSync(fd, out + f.tail)
  } finally { fs.closeSync(fd) }
}

// Bytes per row besides the id's digits, measured on 200k and 1M rows (both within 0.01 byte):
// the id grows from 1 to 7 digits at 1M rows and 8 at 15M, so one constant per format was off
// by 5–10% at 64 MiB and more at 1 GiB.
const PER_ROW = { csv: 65.86, ndjson: 131.04, json: 132.04 }

// Total decimal digits of the ids 1..n.
function idDigits (n) {
  let sum = 0
  for (let d = 1, p = 1; p <= n; d++, p *= 10) sum += (Math.min(n, p * 10 - 1) - p + 1) * d
  return sum
}

/** The number of rows that makes a file of about `bytes` in `format` (within ~0.1%). */
function rowsFor (format, bytes) {
  let lo = 0
  let hi = Math.ceil(bytes / PER_ROW[format])
  while (lo < hi) { // the largest row count whose estimated size is at most `bytes`
    const mid = Math.ceil((lo + hi) / 2)
    if (mid * PER_ROW[format] + idDigits(mid) <= bytes) lo = mid
    else hi = mid - 1
  }
  return lo
}

module.exports = { COLUMNS, orders, writeOrders, rowsFor }

if (require.main === module) {
  const [format = 'csv', rows = '1000', path = `/tmp/orders.${format}`] = process.argv.slice(2)
  writeOrders(path, format, Number(rows))
  console.log(path, fs.statSync(path).size)
}
