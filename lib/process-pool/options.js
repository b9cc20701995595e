'use strict'
// Option checks for `new ProcessPool()` and `pool.run()`: types with Node's wording, ranges with
// ERR_OUT_OF_RANGE, and the defaults in one place (types.d.ts documents the same ones). Every
// value a worker's spawn would refuse is refused here, by the constructor: a pool that took
// them would only fail later, at each start, as ERR_OFFLOAD_WORKER_START.
const os = require('node:os')
const path = require('node:path')
const binding = require('../shared/native')
const { fromNative, invalidArgType, invalidArgValue, outOfRange } = require('../shared/errors')
const { MAX_TIMEOUT, pathString, validateOptions, optionalMs, optionalSignal, optionalTimeout, boundedInteger: integer } = require('../shared/validate')
const { processOptions } = require('../subprocess/options')

// Milliseconds; 0 means `zeroMeans` (none, never, at once: per option).
function ms(o, key, fallback, zeroMeans = 0) {
  const v = optionalMs(o, key)
  if (v === undefined) return fallback
  return v === 0 ? zeroMeans : v
}

function stringArray(o, key) {
  const v = o[key]
  if (v === undefined) return []
  if (!Array.isArray(v)) throw invalidArgType(`options.${key}`, 'an instance of Array', v)
  v.forEach((a, i) => {
    if (typeof a !== 'string') throw invalidArgType(`options.${key}[${i}]`, 'of type string', a)
  })
  return v.slice()
}

function logStream(o, key) {
  const v = o[key] ?? 'inherit'
  if (typeof v !== 'string') throw invalidArgType(`options.${key}`, 'of type string', v)
  if (v !== 'inherit' && v !== 'ignore') throw invalidArgValue(`options.${key}`, v, "must be 'inherit' or 'ignore'")
  return v
}

// The program and its arguments must hold no NUL byte, as for exec(); checked here so the
// message names the pool option each came from (the spawn sees them only as `args[i]`).
function noNul(name, value) {
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must be a string without null bytes')
}

function programValues(prog) {
  noNul(prog.fileOption, prog.file)
  prog.args.forEach((a, i) => noNul(prog.argOptions[i], a))
}

// The directory of offload_worker.py, for `from offload_worker import serve`.
const pythonPath = path.join(__dirname, '..', '..', 'python')

// A Python worker (a command named python*) finds offload_worker without the user setting
// PYTHONPATH: the package's python/ directory goes first, the user's entries after it.
function pythonEnv(file, env, extendEnv) {
  if (!/^python/.test(path.basename(file))) return env
  if (env !== undefined && (env === null || typeof env !== 'object')) return env // refused later
  const own = env !== undefined && Object.hasOwn(env, 'PYTHONPATH')
  const inherited = own ? env.PYTHONPATH : (extendEnv === false ? undefined : process.env.PYTHONPATH)
  const rest = inherited === undefined || inherited === null || inherited === '' ? '' : `${path.delimiter}${inherited}`
  return { ...env, PYTHONPATH: `${pythonPath}${rest}` }
}

// What to run: `script` (a JS file run by this Node binary) or `command` + `args`.
function program(o) {
  const script = o.script === undefined ? undefined : pathString(o.script, 'options.script')
  const command = o.command
  if (command !== undefined && typeof command !== 'string') throw invalidArgType('options.command', 'of type string', command)
  if ((script === undefined) === (command === undefined)) {
    throw invalidArgValue('options', o, "must have exactly one of 'script' and 'command'")
  }
  const args = stringArray(o, 'args')
  if (command !== undefined) {
    if (command === '') throw invalidArgValue('options.command', command, 'must not be empty')
    if (o.execArgv !== undefined) throw invalidArgValue('options.execArgv', o.execArgv, "applies only with 'script'")
    const argOptions = args.map((_, i) => `options.args[${i}]`)
    return { file: command, args, command: [command, ...args].join(' '), fileOption: 'options.command', argOptions }
  }
  if (script === '') throw invalidArgValue('options.script', script, 'must not be empty')
  const file = path.resolve(script)
  const execArgv = stringArray(o, 'execArgv')
  // Which option each argument of the spawn came from, for error messages.
  const argOptions = [...execArgv.map((_, i) => `options.execArgv[${i}]`), 'options.script', ...args.map((_, i) => `options.args[${i}]`)]
  return { file: process.execPath, args: [...execArgv, file, ...args], command: `node ${file}`, script: file, fileOption: 'process.execPath', argOptions }
}

function workerOptions(options) {
  const o = validateOptions(options)
  const size = integer(o, 'size', 1, 1024, os.availableParallelism())
  const minWorkers = integer(o, 'minWorkers', 0, size, 0)
  let maxRssBytes = o.maxRssBytes
  if (maxRssBytes !== undefined) {
    if (typeof maxRssBytes !== 'number') throw invalidArgType('options.maxRssBytes', 'of type number', maxRssBytes)
    if (!(maxRssBytes > 0)) throw outOfRange('options.maxRssBytes', '> 0', maxRssBytes)
    if (maxRssBytes === Infinity) maxRssBytes = undefined
  }
  const prog = program(o)
  const stderr = logStream(o, 'stderr')
  // Types checked and values converted as for exec() (no `supervisor` option here).
  const { native, envBlock } = processOptions({
    env: pythonEnv(prog.file, o.env, o.extendEnv),
    cwd: o.cwd,
    extendEnv: o.extendEnv,
    limits: o.limits,
    stdin: 'ignore',
    stdout: logStream(o, 'stdout'),
    stderr,
    killTree: true,
  })
  programValues(prog)
  // Every other value a worker's spawn would refuse, refused now, by the binding's own checks.
  try {
    binding.checkProcessOptions(native)
  } catch (err) {
    throw fromNative(err)
  }
  const name = o.name ?? path.basename(prog.script ?? prog.file)
  if (typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
  return {
    file: prog.file,
    args: prog.args,
    command: prog.command,
    script: prog.script,
    stderr,
    native,
    envBlock,
    name,
    size,
    minWorkers,
    maxQueue: integer(o, 'maxQueue', 0, Infinity, 10_000),
    timeout: ms(o, 'timeout', undefined, undefined),
    maxTasksPerWorker: integer(o, 'maxTasksPerWorker', 1, Infinity, Infinity),
    maxRssBytes,
    restartBackoff: ms(o, 'restartBackoff', 100),
    startTimeout: ms(o, 'startTimeout', 30_000, MAX_TIMEOUT),
    idleTimeout: ms(o, 'idleTimeout', 60_000),
    cancelGrace: ms(o, 'cancelGrace', 250),
    retireGrace: 10_000,
  }
}

// Queue levels of `run()`'s `priority`, highest first.
const PRIORITY = Object.freeze({ high: 0, normal: 1, low: 2 })

// `pool.run(payload, options)`: the task's name, priority level, signal and timeout (the
// pool's own timeout unless given).
function runOptions(options, poolOptions) {
  const o = validateOptions(options)
  const name = o.name
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
  const priority = o.priority ?? 'normal'
  if (typeof priority !== 'string') throw invalidArgType('options.priority', 'of type string', priority)
  if (!Object.hasOwn(PRIORITY, priority)) throw invalidArgValue('options.priority', priority, "must be one of: 'high', 'normal', 'low'")
  return {
    name: name ?? undefined,
    priority: PRIORITY[priority],
    signal: optionalSignal(o),
    timeout: o.timeout === undefined ? poolOptions.timeout : optionalTimeout(o),
  }
}

module.exports = { workerOptions, runOptions, pythonPath }
