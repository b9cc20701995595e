// The thread-pool worker of app.ts, in TypeScript: totals a CSV of sales on a worker thread.
// tsc builds it to sales-worker.js next to app.js, which is what the pool loads; under a
// TypeScript runner (tsx app.ts) the threads inherit the runner's loader and load this file.
// app.ts imports only its types, so the module's serve() never runs on the main thread.
import { serve } from 'offload/worker'

export interface Totals { units: number, cents: number }

/** What `totals` returns: the pool's result type in app.ts. */
export interface SalesTotals extends Totals {
  sales: number
  byRegion: Record<string, Totals>
}

/** Sums `region,product,units,cents` lines; a header line and blank lines are skipped, anything else fails with `ERR_SALES_CSV`. */
export function totals(csv: string): SalesTotals {
  const out: SalesTotals = { sales: 0, units: 0, cents: 0, byRegion: {} }
  for (const [i, line] of csv.split('\n').entries()) {
    if (line.trim() === '' || (i === 0 && line.startsWith('region,'))) continue
    const [region, , units, cents] = line.split(',')
    const u = Number(units)
    const c = Number(cents)
    // The code reaches the caller with the error; app.ts's errorHandler answers it with a 400.
    if (region === undefined || !Number.isInteger(u) || !Number.isInteger(c)) {
      throw Object.assign(new TypeError(`line ${i + 1}: expected region,product,units,cents`), { code: 'ERR_SALES_CSV' })
    }
    const r = (out.byRegion[region] ??= { units: 0, cents: 0 })
    r.units += u
    r.cents += c
    out.sales++
    out.units += u
    out.cents += c
  }
  return out
}

// The payload is the CSV text, as app.ts's ThreadPool<string, SalesTotals> declares.
serve({ totals: (csv: string): SalesTotals => totals(csv) })
