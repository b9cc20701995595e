'use strict'
// Task handlers shared by every thread-pool contestant's worker module (tp-*.js),
// so all of them run exactly the same code in their threads:
// - noop: nothing, for dispatch cost alone;
// - echo: returns its payload (a 1 MiB Buffer arrives as a copy or a moved view,
//   depending on the pool), so the reply carries the same bytes back;
// - report: a pure-JS CPU task, ~2 ms on a 2020s x86 core: generates `rows`
//   deterministic orders from `seed`, aggregates them the way a sales report
//   would (totals per region and product, top products, percentiles) and
//   returns the report as a JSON string. Deterministic, so the main thread
//   computes each seed's expected string once and checks every reply;
// - priority: the calling thread's niceness (os.getPriority() is per thread on
//   Linux), to check a pool's stated niceness.
// Loads nothing of the benchmark but prng.js (lib.js sets V8 flags and starts a
// loop-delay histogram: not wanted in every worker).
const os = require('node:os')
const { prng } = require('../prng')

const REGIONS = ['north', 'south', 'east', 'west', 'central', 'coast', 'hills', 'islands']
const PRODUCTS = Array.from({ length: 48 }, (_, i) => `sku-${String(i).padStart(3, '0')}`)

function report ({ seed, rows }) {
  const rand = prng(seed)
  const orders = new Array(rows)
  for (let i = 0; i < rows; i++) {
    const qty = 1 + Math.floor(rand() * 20)
    const price = Math.round((2 + rand() * 300) * 100) / 100
    orders[i] = {
      id: `o-${seed}-${i}`,
      region: REGIONS[Math.floor(rand() * REGIONS.length)],
      product: PRODUCTS[Math.floor(rand() * PRODUCTS.length)],
      qty,
      price,
      discount: rand() < 0.2 ? Math.round(rand() * 30) / 100 : 0
    }
  }
  const byRegion = new Map()
  const byProduct = new Map()
  const values = new Float64Array(rows)
  for (let i = 0; i < rows; i++) {
    const o = orders[i]
    const value = o.qty * o.price * (1 - o.discount)
    values[i] = value
    const r = byRegion.get(o.region) || { region: o.region, orders: 0, units: 0, revenue: 0 }
    r.orders++
    r.units += o.qty
    r.revenue += value
    byRegion.set(o.region, r)
    const p = byProduct.get(o.product) || { product: o.product, units: 0, revenue: 0, regions: new Set() }
    p.units += o.qty
    p.revenue += value
    p.regions.add(o.region)
    byProduct.set(o.product, p)
  }
  values.sort()
  const q = (f) => values[Math.min(rows - 1, Math.floor(f * rows))].toFixed(2)
  const total = values.reduce((a, b) => a + b, 0)
  return JSON.stringify({
    title: `Sales report #${seed}`,
    orders: rows,
    revenue: total.toFixed(2),
    percentiles: { p50: q(0.5), p90: q(0.9), p99: q(0.99) },
    regions: [...byRegion.values()].sort((a, b) => b.revenue - a.revenue)
      .map((r) => ({ ...r, revenue: r.revenue.toFixed(2), share: `${((r.revenue / total) * 100).toFixed(1)}%` })),
    topProducts: [...byProduct.values()].sort((a, b) => b.revenue - a.revenue || (a.product < b.product ? -1 : 1)).slice(0, 10)
      .map((p) => ({ product: p.product, units: p.units, revenue: p.revenue.toFixed(2), regions: [...p.regions].sort() })),
    largest: orders.reduce((a, b) => (b.qty * b.price > a.qty * a.price ? b : a)).id
  }, null, 2)
}

module.exports = {
  noop () {},
  echo: (x) => x,
  report,
  priority: () => os.getPriority()
}
