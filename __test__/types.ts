// Type test of the public API: `tsc -p __test__/tsconfig.json` must pass, and the
// `@ts-expect-error` lines must stay errors.
import { Pool, defaultPool, hash, hmac, hashMany, compress, decompress, imageInfo, transformImage, AbortError, OffloadError } from 'offload'
import { exec, spawn, Supervisor, SubprocessError, processStats } from 'offload'
import type { ImageInfo, PoolStats, TaskOptions, ExecOptions, ExecResult, Result, SupervisorStats, ProcessPoolStats, ThreadPoolStats } from 'offload'
import { noop, spin, mallocInUse, externalStringFailure } from 'offload/testing'
import { hashFile, hmacFile, compressFile, decompressFile, encryptFile, decryptFile } from 'offload'
import type { FileTransfer } from 'offload'

async function main(): Promise<void> {
  const pool = new Pool({ threads: 2, maxQueue: 100, name: 'types' })
  const opts: TaskOptions = { pool, signal: AbortSignal.timeout(1000), timeout: 500, priority: 'high' }

  const buf: Buffer = await hash('sha256', Buffer.from('x'))
  const hex: string = await hash('blake3', 'x', { encoding: 'hex' })
  const mac: string = await hmac('sha256', 'key', new Uint8Array(4), { encoding: 'base64url', ...opts })
  const many: string[] = await hashMany('xxh3-64', ['a', new DataView(new ArrayBuffer(2))], { encoding: 'hex' })
  const gz: Buffer = await compress('gzip', new ArrayBuffer(8), { level: 9, pool })
  const raw: Buffer = await decompress('zstd', gz, { maxOutputLength: 1024, timeout: 10 })
  const fileHex: string = await hashFile('sha256', new URL('file:///etc/hostname'), { encoding: 'hex', ...opts })
  const fileMac: Buffer = await hmacFile('sha512', 'key', Buffer.from('/etc/hostname'))
  const moved: FileTransfer = await compressFile('zstd', 'a', 'a.zst', { level: 19, fsync: true, pool })
  const back: number = (await decompressFile('zstd', 'a.zst', 'a', { maxOutputLength: Infinity })).bytesWritten + moved.bytesRead
  // @ts-expect-error a path is a string, Buffer or URL
  await hashFile('sha256', 42)
  const sealed: FileTransfer = await encryptFile('chacha20-poly1305', Buffer.alloc(32), 'a', 'a.enc', { fsync: true, signal: AbortSignal.timeout(1000) })
  await decryptFile('aes-128-gcm', new Uint8Array(16), new URL('file:///a.enc'), 'a', { timeout: 10 })
  // @ts-expect-error the algorithms are encrypt()'s
  await encryptFile('aes-256-cbc', Buffer.alloc(32), 'a', 'b')
  void [fileHex, fileMac, back, sealed]
  await noop({ priority: 'low' })
  await spin(1, opts)
  const inUse: number = mallocInUse()
  const made: string = externalStringFailure('later', 'x' + inUse)

  const stats: PoolStats = pool.stats()
  const p99: number = stats.waitTime.p99 + stats.runTime.max + stats.utilization
  const threads: number = defaultPool().threads + pool.maxQueue
  await pool.close()
  pool.destroy()
  {
    await using scoped = new Pool()
    void scoped.name
  }

  const e: unknown = null
  if (e instanceof OffloadError) void e.code
  if (e instanceof AbortError) { const c: 'ABORT_ERR' = e.code; void c }

  // @ts-expect-error unknown algorithm
  await hash('sha999', 'x')
  // @ts-expect-error blake3 has no HMAC
  await hmac('blake3', 'k', 'x')
  // @ts-expect-error bad priority
  await noop({ priority: 'urgent' })
  // @ts-expect-error numbers are not binary input
  await compress('gzip', 42)
  void [buf, hex, mac, many, raw, p99, threads]
}

async function processes(): Promise<void> {
  const supervisor = new Supervisor({ maxConcurrent: 2, maxQueue: 10 })
  const opts: ExecOptions = {
    cwd: new URL('file:///tmp'), env: { A: 1, B: undefined }, timeout: 1000, killSignal: 'SIGINT',
    forceKillAfter: Infinity, maxBuffer: 1024, limits: { cpuSeconds: 1, memoryBytes: 1e9 },
    supervisor, signal: AbortSignal.timeout(10), killTree: true, shell: '/bin/bash', reject: false,
  }
  // `opts` is a widened ExecOptions: its stdout may be 'ignore', so the output may be absent.
  const text: Result<string | undefined> = await exec('echo', ['hi'], opts)
  const s: string | undefined = text.stdout
  const bin = await exec('cat', { input: new Uint8Array(3), encoding: 'buffer' })
  const b: Buffer | undefined = bin.stdout
  const rss: number | null | undefined = bin.rusage?.maxRssBytes
  const child = spawn('ffmpeg', ['-progress', 'pipe:1'], { stdin: 'ignore' })
  for await (const line of child.lines()) void line.length
  child.stdout?.pipe(process.stdout)
  const killed: boolean = child.kill('SIGKILL') || child.kill(9)
  const done: Result<undefined> = await child.exited
  child.once('spawn', () => void child.pid)
  const spawnedPid: number = await child.spawned
  const fed: number | undefined = bin.inputBytesWritten
  const maxRss: number | undefined = processStats().maxRssBytes
  const stats: SupervisorStats = processStats()
  const running: number = supervisor.stats().running + stats.queued + supervisor.maxConcurrent
  try {
    await exec('false')
  } catch (e) {
    if (e instanceof SubprocessError) void [e.exitCode, e.stderr, e.code, e.timedOut, e.searchedPath?.join(':')]
  }
  // Output is typed as present whenever its stream is piped, which is the default.
  const plain: string = (await exec('x')).stdout
  const plainErr: string = (await exec('x', ['a'])).stderr
  const piped: string = (await exec('x', ['a'], { stdout: 'pipe', timeout: 5 })).stdout
  const noArgs: string = (await exec('x', { stderr: 'pipe' })).stderr
  const buffers = await exec('x', { encoding: 'buffer' })
  const named: ExecResult<{ encoding: 'buffer' }> = buffers
  const outBuf: Buffer = named.stdout
  const errBuf: Buffer = buffers.stderr
  // Each stream on its own: ignoring stdout leaves stderr captured, and the other way round.
  const quiet = await exec('x', [], { stdout: 'ignore' })
  const none: undefined = quiet.stdout
  const kept: string = quiet.stderr
  const loud = await exec('x', { stderr: 'inherit', encoding: 'buffer' })
  const keptBuf: Buffer = loud.stdout
  const gone: undefined = loud.stderr
  // Options whose modes are not known statically: either may be absent.
  const maybe: string | undefined = (await exec('x', [], opts)).stdout
  // @ts-expect-error stdout may be 'ignore' or 'inherit' here
  const notKnown: string = (await exec('x', [], opts)).stdout
  // @ts-expect-error an ignored stdout is not captured
  const ignored: string = (await exec('x', { stdout: 'ignore' })).stdout
  // @ts-expect-error an inherited stderr is not captured
  const inherited: string = (await exec('x', [], { stderr: 'inherit' })).stderr
  // @ts-expect-error an ignored stdout is not captured as a Buffer either
  const ignoredBuf: Buffer = (await exec('x', { stdout: 'ignore', encoding: 'buffer' })).stdout
  // @ts-expect-error Buffers, not strings
  const notText: string = (await exec('x', { encoding: 'buffer' })).stdout
  // @ts-expect-error spawn() output is on its streams, never in the Result
  const streamed: string = (await child.exited).stdout
  void [plain, plainErr, piped, noArgs, outBuf, errBuf, none, kept, keptBuf, gone, maybe, notKnown, ignored, inherited, ignoredBuf, notText, streamed]
  // @ts-expect-error args must be strings
  await exec('echo', [1])
  // @ts-expect-error unknown stdio mode
  spawn('cat', [], { stdout: 'file' })
  // @ts-expect-error unknown signal name
  child.kill('SIGNOPE')
  void [s, b, rss, killed, done, running]
}

void processes

void main

import { serve } from 'offload/worker'
import type { TaskContext } from 'offload/worker'

function workerTypes(): void {
  serve(async (payload: unknown, { signal, name }: TaskContext) => {
    signal.throwIfAborted()
    return { payload, name }
  })
  serve({ resize: (buf: Buffer) => buf.subarray(0, 1), default: () => 42 })
  // @ts-expect-error handlers must be functions
  serve({ bad: 42 })
}

void workerTypes

async function processPool(): Promise<void> {
  const { ProcessPool } = await import('offload')
  const pool = new ProcessPool({
    script: new URL('file:///srv/render-worker.js'), size: 4, minWorkers: 1, maxQueue: 100, timeout: 5000,
    maxTasksPerWorker: 1000, maxRssBytes: 512 * 1024 * 1024, limits: { cpuSeconds: 60 }, env: { MODE: 'x' },
    stdout: 'ignore', restartBackoff: 200, idleTimeout: 0, cancelGrace: 100, execArgv: ['--max-old-space-size=256'],
  })
  const py = new ProcessPool({ command: 'python3', args: ['worker.py'] })
  const { pythonPath } = await import('offload')
  const uv = new ProcessPool({ command: 'uv', args: ['run', 'worker.py'], env: { PYTHONPATH: pythonPath } })
  await uv.close()
  const out: { width: number } = await pool.run<{ width: number }>({ image: Buffer.alloc(4) }, { name: 'resize', signal: AbortSignal.timeout(100), priority: 'high' })
  const anything = await py.run()
  const stats: ProcessPoolStats = pool.stats()
  const n: number = stats.crashed + stats.restarts + stats.timedOut + stats.rejected + stats.workers[0].tasks + (stats.workers[0].rssBytes ?? 0)
  await pool.close()
  await py.destroy()
  {
    await using scoped = new ProcessPool({ script: 'w.js' })
    void scoped.size
  }
  // @ts-expect-error stdout cannot be piped: it is the workers' log
  void new ProcessPool({ script: 'w.js', stdout: 'pipe' })
  // @ts-expect-error bad priority
  await pool.run(1, { priority: 'urgent' })
  void [out, anything, n]
}

async function workerSide(): Promise<void> {
  const { serve } = await import('offload/worker')
  serve({
    resize: async (payload: { image: Buffer }, { signal, name }) => {
      signal.throwIfAborted()
      return { width: payload.image.length, name }
    },
  })
}

void processPool
void workerSide

async function metricsAndExpress(): Promise<void> {
  const { metrics } = await import('offload')
  const { errorHandler, abortOnClose } = await import('offload/express')
  const text: string = metrics()
  const type: string = metrics.contentType
  const handler = errorHandler({ retryAfter: 5 })
  const http = await import('node:http')
  http.createServer((req, res) => {
    const signal: AbortSignal = abortOnClose(req, res)
    handler(new Error('x'), req, res, () => {})
    void signal
  })
  errorHandler({ statuses: { ERR_OFFLOAD_CORRUPT_INPUT: 422, ERR_OFFLOAD_EXIT: null } })
  // @ts-expect-error retryAfter is a number of seconds
  errorHandler({ retryAfter: '5' })
  // @ts-expect-error a status is a number (or null)
  errorHandler({ statuses: { ERR_OFFLOAD_EXIT: '502' } })
  void [text, type]
}

void metricsAndExpress

async function compressionTypes(): Promise<void> {
  const { compression } = await import('offload/express')
  const { Pool } = await import('offload')
  const mw = compression({ threshold: '2kb', encodings: ['br', 'gzip'], levels: { br: 5 }, pool: new Pool(), priority: 'low', filter: (req, res) => compression.filter(req, res) })
  const fallbacks: number = mw.stats().fallbacks
  const gzipped: number = mw.stats().compressed.gzip
  // @ts-expect-error lz4 is not an HTTP content coding
  compression({ encodings: ['lz4'] })
  void [fallbacks, gzipped]
}

void compressionTypes

async function threadPool(): Promise<void> {
  const { ThreadPool } = await import('offload')
  const pool = new ThreadPool<{ rows: number }, string>({
    script: new URL('file:///srv/report.js'), threads: 2, maxQueue: 100, abortGrace: 500,
    resourceLimits: { maxOldGenerationSizeMb: 256 }, execArgv: ['--enable-source-maps'], name: 'reports',
  })
  const html: string = await pool.run({ rows: 10 }, { name: 'render', timeout: 1000, priority: 'low', signal: AbortSignal.timeout(100) })
  const other: number = await pool.run<number>({ rows: 1 }, { transfer: false })
  const { port1 } = new MessageChannel()
  await pool.run({ rows: 2 }, { transfer: [new ArrayBuffer(8), port1] })
  // @ts-expect-error a transfer list holds ArrayBuffers and MessagePorts, not views
  await pool.run({ rows: 3 }, { transfer: [new Uint8Array(8)] })
  const s: ThreadPoolStats = pool.stats()
  const n: number = s.threads + s.queued + s.running + s.idle + s.submitted + s.completed + s.cancelled + s.rejected + s.crashed
  // @ts-expect-error the payload type is fixed by the pool
  await pool.run({ columns: 3 })
  // @ts-expect-error script is required
  void new ThreadPool({ threads: 2 })
  {
    await using scoped = new ThreadPool({ script: 'w.js' })
    void [scoped.name, scoped.threads]
  }
  await pool.destroy()
  void [html, other, n]
}

void threadPool

async function images(): Promise<void> {
  const info: ImageInfo = await imageInfo(Buffer.alloc(8), { timeout: 100, priority: 'high' })
  const portrait: boolean = info.orientation >= 5 ? info.width < info.height : info.height > info.width
  const space: 'srgb' | 'b-w' | 'cmyk' = info.space
  // @ts-expect-error a string is not image bytes
  await imageInfo('photo.jpg')
  void [portrait, space, info.format === 'gif', info.hasProfile]
  const thumb: Buffer = await transformImage(Buffer.alloc(8), { resize: { width: 320, fit: 'inside', kernel: 'lanczos3' }, format: 'webp', signal: AbortSignal.timeout(1000) })
  const { data, info: made } = await transformImage(thumb, { rotate: 90, flip: true, extract: { left: 0, top: 0, width: 10, height: 10 }, quality: 70, info: true })
  const size: number = made.size + data.length
  // @ts-expect-error 45 degrees is not a quarter turn
  await transformImage(thumb, { rotate: 45 })
  // @ts-expect-error no TIFF output
  await transformImage(thumb, { format: 'tiff' })
  void size
}
void images

async function passwords(): Promise<void> {
  const { hashPassword, verifyPassword, needsRehash } = await import('offload')
  const encoded: string = await hashPassword('pw', { algorithm: 'scrypt', N: 2 ** 15, blockSize: 8, timeout: 1000 })
  const ok: boolean = await verifyPassword(encoded, Buffer.from('pw'), { priority: 'high' })
  const stale: boolean = needsRehash(encoded, { algorithm: 'argon2id', memoryCost: 65536, timeCost: 3, parallelism: 1 })
  // @ts-expect-error no such algorithm
  await hashPassword('pw', { algorithm: 'md5' })
  // @ts-expect-error needsRehash parses only: it takes no task options
  needsRehash(encoded, { timeout: 10 })
  void [ok, stale]
}
void passwords
// Key derivation and authenticated encryption (issue 16, lib/crypto/cipher.d.ts).
async function cipher(): Promise<void> {
  const { scrypt, pbkdf2, hkdf, encrypt, decrypt } = await import('offload')
  const key: Buffer = await scrypt('password', 'salt', 32, { N: 1024, blockSize: 8, maxmem: 64 << 20, timeout: 1000 })
  const k2: Buffer = await pbkdf2(Buffer.from('pw'), new Uint8Array(16), 600_000, 32, 'sha256', { priority: 'low' })
  const k3: Buffer = await hkdf('SHA-512', k2, '', 'context', 64)
  const sealed = await encrypt('aes-256-gcm', key, 'hello', { aad: 'header', signal: AbortSignal.timeout(1000) })
  const parts: Buffer[] = [sealed.iv, sealed.ciphertext, sealed.authTag]
  const plain: Buffer = await decrypt('aes-256-gcm', key, sealed, { aad: 'header' })
  await decrypt('chacha20-poly1305', key, { iv: new Uint8Array(12), ciphertext: new ArrayBuffer(4), authTag: parts[2] })
  // @ts-expect-error no CBC: only authenticated ciphers
  await encrypt('aes-256-cbc', key, 'x')
  // @ts-expect-error the IV is binary
  await encrypt('aes-256-gcm', key, 'x', { iv: 'abc' })
  void [k3, plain]
}
void cipher

// Streams (lib/cpu/stream-types.d.ts): Transforms with flush(), hash of a Readable.
import { createCompressStream, createDecompressStream } from 'offload'
import { Readable } from 'node:stream'
async function streams(): Promise<void> {
  const gz = createCompressStream('gzip', { level: 6, priority: 'high' })
  gz.flush(() => {})
  const gunzip = createDecompressStream('gzip', { maxOutputLength: 1 << 20, chunkSize: 4096 })
  // @ts-expect-error lz4 cannot be decompressed as a stream
  createDecompressStream('lz4')
  const hex: string = await hash('sha256', Readable.from(['a']), { encoding: 'hex' })
  void [gunzip, hex]
}
void streams

// Parsing (lib/parse/types.d.ts): batches of rows, stats, columns, one JSON value.
import { parseCsv, parseNdjson, parseJson } from 'offload'
import type { ParseStats, CsvOptions } from 'offload'
async function parsing(): Promise<void> {
  const opts: CsvOptions = { columns: true, cast: { price: 'number', at: 'date' }, batchRows: 1000 }
  const stream = parseCsv({ path: '/tmp/x.csv' }, { columns: true })
  for await (const batch of stream) {
    const first: Record<string, unknown> | undefined = batch[0]
    void first
  }
  const stats: ParseStats = stream.stats
  for await (const cols of parseCsv('a\n1\n', { columns: true, cast: { a: 'number' }, shape: 'columns' })) {
    const a: Float64Array | unknown[] | undefined = cols.a
    void a
  }
  for await (const rows of parseCsv(Buffer.from('1,2\n'), { quote: false, delimiter: ';' })) void rows.length
  for await (const values of parseNdjson(Readable.from(['{"a":1}\n']), { onError: 'skip' })) void values.length
  const doc: unknown = await parseJson('[1]', { signal: AbortSignal.timeout(1000) })
  // @ts-expect-error encoding is utf8 or latin1
  parseCsv('a', { encoding: 'utf16' })
  // @ts-expect-error parseJson has no batches
  await parseJson('1', { batchRows: 10 })
  void [opts, stats, doc]
}
void parsing

async function bullmqTypes(): Promise<void> {
  const { createWorker, UNRECOVERABLE } = await import('offload/bullmq')
  const { Pool, ProcessPool, hash } = await import('offload')
  const pool = new Pool({ threads: 2 })
  const procs = new ProcessPool({ script: '/srv/worker.js', size: 2 })
  const worker = createWorker<{ b64: string }, string>('reports', async (job, { signal, token }) => {
    const t: string | undefined = token
    void t
    return hash('sha256', Buffer.from(job.data.b64, 'base64'), { pool, signal, encoding: 'hex' })
  }, { connection: { host: '127.0.0.1', port: 6379 }, pools: [pool, procs], concurrency: 'auto', closeTimeout: 10000, lockDuration: 60000 })
  worker.on('completed', (job, result: string) => void [job.id, result])
  await worker.close()
  const codes: ReadonlySet<string> = UNRECOVERABLE
  // @ts-expect-error concurrency is a number or 'auto'
  createWorker('q', async () => 1, { connection: {}, concurrency: 'max' })
  // @ts-expect-error pools hold offload pools
  createWorker('q', async () => 1, { connection: {}, pools: [{}] })
  void codes
}

void bullmqTypes

// hostBudget (issue 19): the option of every pool, and its stats.
async function hostBudgetTypes(): Promise<void> {
  const { Pool, ThreadPool, ProcessPool } = await import('offload')
  const pool = new Pool({ threads: 2, hostBudget: { name: 'web', slots: 2, dir: '/run/user/1000/offload' } })
  const name: string | undefined = pool.hostBudget
  const s = pool.stats().hostBudget
  if (s !== undefined) void [name, s.slots, s.held, s.heldAnywhere, s.waiting, s.acquired, s.waited, s.waitTime.p99, s.dir]
  new ThreadPool({ script: 'w.js', hostBudget: { name: 'web' } }).stats().hostBudget?.held
  new ProcessPool({ script: 'w.js', hostBudget: false }).stats().hostBudget?.waiting
  // @ts-expect-error a name is required
  new Pool({ hostBudget: { slots: 2 } })
}

void hostBudgetTypes
