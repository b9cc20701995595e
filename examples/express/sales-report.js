'use strict'
// A pure-JS report generator, the kind of CPU work a ThreadPool is for: it generates a store's
// sales rows from its id (deterministically: the same id and row count always give the same
// report), totals them by region and by product, and renders an HTML page. No I/O, no native
// code; 1000 rows take a few milliseconds of CPU. report-thread-worker.js serves it on the
// pool's threads; the example's test runs it in-process too, to check what the server sends.

const REGIONS = ['North', 'South', 'East', 'West']
const PRODUCTS = ['Anvil', 'Bolt', 'Crate', 'Drill', 'Easel', 'Funnel', 'Gasket', 'Hinge']

// mulberry32: a small seeded PRNG, so rows depend on the id alone.
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// FNV-1a of the id: the PRNG's seed.
function seedOf(id) {
  let h = 0x811c9dc5
  for (const ch of String(id)) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193)
  return h >>> 0
}

/** The sales rows of store `id`: `{ day, region, product, units, cents }`, in day order. */
function salesRows(id, count) {
  const next = prng(seedOf(id))
  const rows = []
  for (let i = 0; i < count; i++) {
    const units = 1 + Math.floor(next() * 20)
    rows.push({
      day: 1 + Math.floor((i * 365) / count),
      region: REGIONS[Math.floor(next() * REGIONS.length)],
      product: PRODUCTS[Math.floor(next() * PRODUCTS.length)],
      units,
      cents: units * (199 + Math.floor(next() * 9800)),
    })
  }
  return rows
}

const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => escapes[c])
const money = (cents) => (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

// Sums units and cents per key, largest revenue first.
function totalsBy(rows, key) {
  const totals = new Map()
  for (const r of rows) {
    const t = totals.get(r[key]) ?? { units: 0, cents: 0 }
    t.units += r.units
    t.cents += r.cents
    totals.set(r[key], t)
  }
  return [...totals].sort((a, b) => b[1].cents - a[1].cents || (a[0] < b[0] ? -1 : 1))
}

function table(title, rows) {
  const body = rows.map(([k, t]) => `<tr><td>${escapeHtml(k)}</td><td>${t.units}</td><td>${money(t.cents)}</td></tr>`).join('')
  return `<h2>${title}</h2><table><tr><th></th><th>units</th><th>revenue</th></tr>${body}</table>`
}

/** The HTML sales report of store `id` over `rows` generated sales. */
function salesReport(id, rows = 1000) {
  const sales = salesRows(id, rows)
  let units = 0
  let cents = 0
  for (const r of sales) {
    units += r.units
    cents += r.cents
  }
  const best = sales.reduce((a, b) => (b.cents > a.cents ? b : a), sales[0])
  return '<!doctype html><html><head><meta charset="utf-8">' +
    `<title>Sales report: store ${escapeHtml(id)}</title></head><body>` +
    `<h1>Store ${escapeHtml(id)}</h1>` +
    `<p>${sales.length} sales, ${units} units, revenue ${money(cents)}</p>` +
    (best ? `<p>Largest sale: day ${best.day}, ${best.units} × ${escapeHtml(best.product)} in ${best.region}, ${money(best.cents)}</p>` : '') +
    table('By region', totalsBy(sales, 'region')) +
    table('By product', totalsBy(sales, 'product')) +
    '</body></html>'
}

module.exports = { salesReport, salesRows }
