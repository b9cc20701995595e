'use strict'
// Helper process for the capture scenario (not a pool task): one contestant
// buffers `bytes` of `head -c bytes /dev/zero` once, in a process of its own so
// the peak RSS is its alone. Sends { elapsedMs, peakAboveBaseline, len, ... }.
// argv: contestant headPath bytes.

const cp = require('node:child_process')
const fs = require('node:fs')
const { measure, helperMain } = require('../lib')

const [name, headPath, bytesArg] = process.argv.slice(2)
const BYTES = Number(bytesArg)
const MAX_BUFFER = 512 * 2 ** 20

function status (field) {
  const m = fs.readFileSync('/proc/self/status', 'latin1').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  return Number(m[1]) * 1024
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the
// peak below belongs to the capture, not to start-up. If it is refused, VmHWM
// still bounds the capture from above.
function resetPeak () {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

async function contestant () {
  const args = (n) => ['-c', String(n), '/dev/zero']
  if (name === 'offload') {
    const { exec } = require('../..')
    return async (n) => (await exec(headPath, args(n), { encoding: 'buffer', maxBuffer: MAX_BUFFER, stripFinalNewline: false })).stdout
  }
  if (name === 'execFile') {
    return (n) => new Promise((resolve, reject) => {
      cp.execFile(headPath, args(n), { encoding: 'buffer', maxBuffer: MAX_BUFFER }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
    })
  }
  if (name === 'execa') {
    const { execa } = await import('execa')
    return async (n) => (await execa(headPath, args(n), { encoding: 'buffer', maxBuffer: MAX_BUFFER, stripFinalNewline: false })).stdout
  }
  throw new Error(`unknown contestant ${name}`)
}

// memcmp against a zero block: a fast way to prove every byte is 0.
function allZeros (buf) {
  const zero = Buffer.alloc(1 << 20)
  for (let off = 0; off < buf.length; off += zero.length) {
    const chunk = buf.subarray(off, off + zero.length)
    if (!zero.subarray(0, chunk.length).equals(chunk)) return false
  }
  return true
}

helperMain(async () => {
  const capture = await contestant()
  // A tiny warm-up capture keeps first-call setup (module init, threads) out of
  // both the time and the peak.
  await capture(1)
  let out
  let baseline
  let peakReset
  const m = await measure(async () => {
    peakReset = resetPeak()
    baseline = status('VmRSS')
    out = await capture(BYTES)
    return {}
  })
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength) // execa returns a Uint8Array
  if (buf.length !== BYTES) throw new Error(`${name}: captured ${buf.length} bytes, expected ${BYTES}`)
  if (!allZeros(buf)) throw new Error(`${name}: captured output is not all zeros`)
  // The peak is read after the check has touched every byte: offload hands a large output
  // over as a mapped memfd, whose pages only count as resident once read, so reading it
  // earlier would under-report the memory the output really takes.
  const peak = status('VmHWM')
  return { ...m, baselineRss: baseline, peakRss: peak, peakAboveBaseline: peak - baseline, peakReset, len: buf.length }
})
