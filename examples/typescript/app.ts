// A typed Express app using offload: CPU kernels on the pool, an external tool, a process pool,
// a thread pool with a TypeScript worker, backpressure mapped to HTTP and Prometheus metrics.
// `npm test` type-checks this file (tsc -p __test__/tsconfig.json), and express.test.js builds
// it to JavaScript and serves /sales from it; or run it with any TypeScript runner.
import path from 'node:path'
import express, { type Request, type Response, type NextFunction } from 'express'
import { compress, exec, hash, metrics, Pool, ProcessPool, ThreadPool } from 'offload'
import { abortOnClose, errorHandler } from 'offload/express'
import type { SalesTotals } from './sales-worker'

const pool = new Pool({ name: 'http', maxQueue: 64 })
const analysers = new ProcessPool({ script: require.resolve('./analyse-worker.js'), size: 2, maxRssBytes: 512 * 1024 * 1024 })

// Payload and result types fixed for every run(): a CSV string in, SalesTotals out. Built
// by tsc, this file is app.js and the worker sales-worker.js; under a TypeScript runner both
// are .ts, and the threads inherit its loader (execArgv defaults to the parent's).
const sales = new ThreadPool<string, SalesTotals>({
  script: path.join(__dirname, `sales-worker${path.extname(__filename)}`), threads: 2, maxQueue: 64, name: 'sales',
})

interface Analysis { bytes: number, lines: number, longestLine: number }

const app = express()
app.use(express.raw({ type: () => true, limit: '32mb' }))

app.post('/digest', async (req: Request, res: Response, next: NextFunction) => {
  try {
    const hex: string = await hash('sha256', req.body as Buffer, { encoding: 'hex', pool, signal: abortOnClose(req) })
    const gz: Buffer = await compress('zstd', req.body as Buffer, { level: 3, pool, timeout: 2000 })
    res.json({ hex, compressedBytes: gz.length })
  } catch (err) {
    next(err)
  }
})

app.post('/analyse', async (req: Request, res: Response, next: NextFunction) => {
  try {
    const analysis = await analysers.run<Analysis>(req.body as Buffer, { name: 'lines', timeout: 5000, signal: abortOnClose(req) })
    res.json(analysis)
  } catch (err) {
    next(err)
  }
})

app.post('/sales', async (req: Request, res: Response, next: NextFunction) => {
  try {
    const csv = (req.body as Buffer | undefined)?.toString('utf8') ?? '' // Express 5: no body, undefined
    const totals: SalesTotals = await sales.run(csv, { name: 'totals', timeout: 5000, signal: abortOnClose(req) })
    res.json(totals)
  } catch (err) {
    next(err) // the worker's ERR_SALES_CSV arrives with its code: a 400 (errorHandler below)
  }
})

app.get('/version', async (_req: Request, res: Response, next: NextFunction) => {
  try {
    // stdout is piped (the default), so it is typed `string`: no `!` needed.
    const { stdout } = await exec('git', ['rev-parse', 'HEAD'], { timeout: 2000 })
    res.json({ commit: stdout, short: stdout.slice(0, 7) })
  } catch (err) {
    next(err)
  }
})

app.get('/metrics', (_req: Request, res: Response) => {
  res.type(metrics.contentType).send(metrics())
})

app.use(errorHandler({ retryAfter: 2, statuses: { ERR_SALES_CSV: 400 } }))

export { app, analysers, pool, sales }
