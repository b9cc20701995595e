'use strict'
// Helper process for the capture scenario (not a pool task): one contestant
// buffers `bytes` of `head -c bytes /dev/zero` once and checks every byte, both
// timed, in a process of its own so the peak RSS is its alone. Sends { elapsedMs, peakAboveBaseline, len, ... }.
// argv: contestant headPath bytes.

const cp = require('node:child_process')
const fs = require('node:fs')
const { measure, helperMain, yieldToLoop } = require('../lib')

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

// memcmp against a zero block: proves every byte is 0 and touches every page.
// Runs inside the timed region for every contestant alike: offload hands a large
// output over as a mapped memfd whose pages are first touched when read, while
// execFile and execa have already copied theirs (Buffer.concat) before resolving,
// so stopping the clock before the output is read would favour offload. Checked
// in 32 MiB slices with a turn of the loop between them, so the check itself
// does not show up as one long loop stall.
async function allZeros (buf) {
  const zero = Buffer.alloc(1 << 20)
  for (let off = 0; off < buf.length; off += zero.length) {
    const chunk = buf.subarray(off, off + zero.length)
    if (!zero.subarray(0, chunk.length).equals(chunk)) return false
    if ((off + zero.length) % (32 << 20) === 0) await yieldToLoop()
  }
  return true
}

helperMain(async () => {
  const capture = await contestant()
  // A tiny warm-up capture keeps first-call setup (module init, threads) out of
  // both the time and the peak.
  await capture(1)
  let len
  let baseline
  let peakReset
  const m = await measure(async () => {
    peakReset = resetPeak()
    baseline = status('VmRSS')
    const out = await capture(BYTES)
    const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength) // execa returns a Uint8Array
    len = buf.length
    if (len !== BYTES) throw new Error(`${name}: captured ${len} bytes, expected ${BYTES}`)
    if (!(await allZeros(buf))) throw new Error(`${name}: captured output is not all zeros`)
    return {}
  })
  // Read after the check has touched every byte, so a mapped output's pages count.
  const peak = status('VmHWM')
  return { ...m, baselineRss: baseline, peakRss: peak, peakAboveBaseline: peak - baseline, peakReset, len }
})
