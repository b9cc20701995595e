'use strict'
// Helper process for one row of the aead scenario (not a pool task): one encrypter runs every
// case (algorithm x message size) in turn, each in a closed loop, while fs.promises.readFile of a
// small file is issued every `probeEveryMs` in this same process (benchmark/inprocess.js; the peak
// RSS mark is reset before each case).
// - 'offload': encrypt(algorithm, key, plaintext, { pool }) on a pool of its own (`threads`, at
//   `nice` or under SCHED_IDLE); a random IV per message from the OS CSPRNG, as its default.
// - 'node': node:crypto on the event loop, as its docs show: crypto.randomBytes(12) for the IV,
//   createCipheriv(algorithm, key, iv, { authTagLength: 16 }), one update() and final(), then
//   getAuthTag(); each lane yields to the loop (setImmediate) after each message, as a server
//   handling one message per request would. Its rate is OpenSSL's on one core.
// Before timing, each case's first output is decrypted with createDecipheriv and compared with the
// plaintext; every timed output's sizes are checked.
// kind 'idle' runs no load: the probe's baseline in the same kind of process.
// argv: JSON { kind, cases: [{ algorithm, bytes, inflight, warm }], probeFile, durationMs,
//   probeEveryMs, threads, nice, idlePriority }. Sends { cases: [run per case] } (idle:
//   { idle }).

const crypto = require('node:crypto')
const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, closedLoop, performance, helperMain, gc, yieldToLoop } = require('../lib')
const { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')
const C = require('../contestants')

const cfg = JSON.parse(process.argv[2])
const KEY_BYTES = { 'aes-256-gcm': 32, 'aes-128-gcm': 16, 'chacha20-poly1305': 32 }

function nodeEncrypt (algorithm, key, plaintext) {
  const iv = crypto.randomBytes(12)
  const c = crypto.createCipheriv(algorithm, key, iv, { authTagLength: 16 })
  const head = c.update(plaintext)
  const tail = c.final() // empty for these stream modes; kept so no byte could be lost
  return { iv, ciphertext: tail.length ? Buffer.concat([head, tail]) : head, authTag: c.getAuthTag() }
}

function checkSizes (out, plaintext, who) {
  if (!out || out.iv.length !== 12 || out.authTag.length !== 16 || out.ciphertext.length !== plaintext.length) {
    throw new Error(`${who}: iv ${out && out.iv.length} B, tag ${out && out.authTag.length} B, ciphertext ${out && out.ciphertext.length} B for ${plaintext.length} B of plaintext (expected 12, 16, ${plaintext.length})`)
  }
}

// Throws unless node's createDecipheriv recovers `plaintext` from `out`.
function checkWithNode (algorithm, key, plaintext, out, who) {
  checkSizes(out, plaintext, who)
  const d = crypto.createDecipheriv(algorithm, key, out.iv, { authTagLength: 16 })
  d.setAuthTag(out.authTag)
  const back = Buffer.concat([d.update(out.ciphertext), d.final()])
  if (!back.equals(plaintext)) throw new Error(`${who}: node:crypto decrypted something else than the plaintext`)
}

async function timed (submit, inflight) {
  gc()
  const peakRssScope = resetPeak() ? 'run' : 'process'
  const r = await measure(async () => {
    const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
    if (!submit) {
      await sleep(cfg.durationMs)
      return { fs: probeSummary(await stopProbe()) }
    }
    const t0 = performance.now()
    const { ops } = await closedLoop(submit, { inflight, durationMs: cfg.durationMs })
    const loadMs = performance.now() - t0
    return { ops, loadMs, opsPerSec: ops / (loadMs / 1000), fs: probeSummary(await stopProbe()) }
  })
  return { ...r, peakRssMiB: peakRssMiB(), peakRssScope }
}

helperMain(async () => {
  await fs.promises.readFile(cfg.probeFile) // starts libuv's threads: start-up, not load
  if (cfg.kind === 'idle') return { idle: await timed(null) }
  let pool, encrypt
  if (cfg.kind === 'offload') {
    const api = require('../..')
    pool = new api.Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: 'aead' })
    encrypt = (algorithm, key, plaintext) => api.encrypt(algorithm, key, plaintext, { pool })
  } else if (cfg.kind === 'node') {
    encrypt = async (algorithm, key, plaintext) => {
      const out = nodeEncrypt(algorithm, key, plaintext)
      await yieldToLoop()
      return out
    }
  } else throw new Error(`unknown aead contestant ${cfg.kind}`)

  const cases = []
  for (const { algorithm, bytes, inflight, warm } of cfg.cases) {
    const key = crypto.randomBytes(KEY_BYTES[algorithm])
    const plaintext = crypto.randomBytes(bytes)
    const once = () => encrypt(algorithm, key, plaintext)
    checkWithNode(algorithm, key, plaintext, await once(), `${cfg.kind} ${algorithm} ${bytes} B`)
    await C.warm(once, warm)
    if (pool) checkPoolThreads('aead', cfg)
    const r = await timed(async () => checkSizes(await once(), plaintext, `${cfg.kind} ${algorithm}`), inflight)
    cases.push({ ...r, mbPerSec: (r.ops * bytes) / 1e6 / (r.loadMs / 1000) })
  }
  if (pool) await pool.close()
  return { cases }
})
