'use strict'
// /proc inspection for the subprocess tests: is a process gone, which children does this
// process have, how many descriptors does it hold.
const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')

// [state, ppid] of a process, or undefined once it is gone (fields after the `comm` field,
// which may itself contain spaces and parentheses).
function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid] = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return [state, Number(ppid)]
  } catch {
    return undefined
  }
}

// True once `pid` is gone or a zombie (dead, waiting for whoever inherited it), within `ms`.
async function dies(pid, ms = 2000) {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`)
  const end = Date.now() + ms
  for (;;) {
    const s = stat(pid)
    if (s === undefined || s[0] === 'Z') return true
    if (Date.now() > end) return false
    await sleep(10)
  }
}

// offload's watchdog (src/process/watchdog.rs) is a child for the life of the process.
function isWatchdog(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('# offload-watchdog')
  } catch {
    return false
  }
}

// This process's children as [{ pid, state }], offload's watchdog excepted.
function children(parent = process.pid) {
  const out = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = stat(name)
    if (s !== undefined && s[1] === parent && !isWatchdog(name)) out.push({ pid: Number(name), state: s[0] })
  }
  return out
}

// True once this process has no children left (zombies included), within `ms`.
async function descendantsGone(ms = 2000) {
  const end = Date.now() + ms
  while (children().length > 0) {
    if (Date.now() > end) return false
    await sleep(10)
  }
  return true
}

// The pid of `parent`'s offload watchdog, or undefined while it has none.
function watchdogOf(parent) {
  for (const name of fs.readdirSync('/proc')) {
    if (/^\d+$/.test(name) && stat(name)?.[1] === parent && isWatchdog(name)) return Number(name)
  }
  return undefined
}

// Bytes `pid` has read (the kernel's rchar). The watchdog reads nothing but its `+PGID` and
// `-PGID` lines, so this says which registrations it has taken in.
function bytesRead(pid) {
  try {
    return Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1])
  } catch {
    return undefined
  }
}

// The read(2) syscall number, as /proc/<pid>/syscall shows it.
const SYS_READ = { x64: 0, arm64: 63 }[process.arch]

async function theWatchdog(parent, end) {
  for (;;) {
    const dog = watchdogOf(parent)
    if (dog !== undefined) return dog
    if (Date.now() > end) throw new Error(`${parent} has no watchdog`)
    await sleep(5)
  }
}

// Waits until `parent`'s watchdog is blocked reading its pipe and returns how many bytes it has
// read. It reads a byte at a time, so blocked means every line written so far is consumed:
// call it when no child is running, and the count is exact (a baseline for watchdogHolds).
async function watchdogIdle(parent = process.pid, ms = 10_000) {
  const end = Date.now() + ms
  const dog = await theWatchdog(parent, end)
  for (;;) {
    let call
    try {
      call = fs.readFileSync(`/proc/${dog}/syscall`, 'utf8')
    } catch {}
    if (call?.startsWith(`${SYS_READ} 0x0 `)) return bytesRead(dog)
    if (Date.now() > end) throw new Error(`the watchdog ${dog} never waited on its pipe: ${call}`)
    await sleep(5)
  }
}

// Resolves once `parent`'s watchdog, which had read `baseline` bytes (watchdogIdle), has read
// the registration line of every process group in `pgids`: from then on it kills them when
// `parent` dies. Registration follows a fixed delay after each child starts
// (src/process/watchdog.rs); no group may have ended meanwhile (its `-PGID` line would count).
async function watchdogHolds(parent, baseline, pgids, ms = 10_000) {
  const end = Date.now() + ms
  const dog = await theWatchdog(parent, end)
  const expected = baseline + pgids.reduce((n, g) => n + `+${g}\n`.length, 0)
  for (;;) {
    const read = bytesRead(dog)
    if (read >= expected) return
    if (Date.now() > end) throw new Error(`the watchdog ${dog} read ${read - baseline} bytes, not the registration of ${pgids}`)
    await sleep(5)
  }
}

function openFds() {
  return fs.readdirSync('/proc/self/fd').length
}

// CPU time (utime + stime, in clock ticks of 10 ms) of each thread of this process whose name
// starts with `prefix`, as a Map from thread id; a thread that exits while being read is left out.
function threadTicks(prefix) {
  const out = new Map()
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith(prefix)) continue
      const s = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = s.slice(s.lastIndexOf(')') + 2).split(' ')
      out.set(Number(tid), Number(fields[11]) + Number(fields[12])) // fields 14 and 15 of stat(5)
    } catch {}
  }
  return out
}

// Ticks the threads in `after` used since `before` (a thread new in `after` counts from 0).
function ticksSince(before, after) {
  let total = 0
  for (const [tid, ticks] of after) total += ticks - (before.get(tid) ?? 0)
  return total
}

// The first line a child process prints on `stream`, parsed as JSON (fixtures report pids so).
async function firstJsonLine(stream) {
  let out = ''
  for await (const chunk of stream) {
    out += chunk
    if (out.includes('\n')) break
  }
  return JSON.parse(out)
}

module.exports = { firstJsonLine, stat, dies, children, descendantsGone, openFds, watchdogOf, bytesRead, watchdogIdle, watchdogHolds, threadTicks, ticksSince }
