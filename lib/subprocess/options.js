'use strict'
// Argument and option checks for exec() and spawn(). Types are checked here, where Node's
// wording for them lives; values (ranges, names, NUL bytes) are checked by the binding, except
// the environment's, which is assembled here (see envBlock). The binding gets a fresh object
// of validated values, never the caller's object, so no getter runs in the middle of a spawn.
const path = require('node:path')
const { invalidArgType, invalidArgValue } = require('../shared/errors')
const { toBytes, validateOptions, optionalNumber, optionalSignal, pathString } = require('../shared/validate')

function normalizeArgs(args, options) {
  if (args === undefined || args === null) return [[], options]
  if (!Array.isArray(args)) {
    // exec(file, options), as child_process.execFile allows.
    if (typeof args === 'object' && options === undefined) return [[], args]
    throw invalidArgType('args', 'an instance of Array', args)
  }
  for (let i = 0; i < args.length; i++) {
    if (typeof args[i] !== 'string') throw invalidArgType(`args[${i}]`, 'of type string', args[i])
  }
  return [args.slice(), options]
}

function check(value, name, type) {
  if (value !== undefined && typeof value !== type) throw invalidArgType(`options.${name}`, `of type ${type}`, value)
  return value
}

function stringOrNumber(value, name) {
  if (value !== undefined && typeof value !== 'string' && typeof value !== 'number') {
    throw invalidArgType(name, 'of type string or number', value)
  }
  return value
}

const LIMITS = ['memoryBytes', 'cpuSeconds', 'openFiles', 'processes', 'fileSizeBytes']

function limitsOf(limits) {
  if (limits === undefined) return undefined
  if (limits === null || typeof limits !== 'object') throw invalidArgType('options.limits', 'of type object', limits)
  const out = {}
  for (const key of LIMITS) {
    const v = limits[key]
    if (v !== undefined && typeof v !== 'number') throw invalidArgType(`options.limits.${key}`, 'of type number', v)
    if (v !== undefined) out[key] = v
  }
  return out
}

// The child's whole environment, as `NAME=value` entries each ended by a NUL byte: one string
// crosses into the binding instead of an object of 30-60 properties, which napi converts key
// by key (an exec() call with 35 variables: about 40 µs instead of 55-85 µs on the JS thread;
// reading process.env is most of what is left). The parent's part comes from process.env at
// the call: Node reads the process environment under its own lock (a worker with SHARE_ENV
// may setenv() at any moment), and a worker's process.env is its own copy anyway; the binding
// never reads `environ`. `env` goes on top, as Node takes it: values coerced to strings,
// undefined ones left out (so `{ PATH: undefined }` removes the parent's). Its names and
// values are checked here, since a NUL would split an entry.
function envBlock(env, extend) {
  if (env !== undefined && (env === null || typeof env !== 'object')) throw invalidArgType('options.env', 'of type object', env)
  let block = ''
  if (extend) {
    const parent = process.env
    // Object.keys, not for-in: half the cost on process.env.
    for (const k of Object.keys(parent)) {
      // An entry of the process environment with no name cannot be passed on as one.
      if (k !== '' && (env === undefined || !Object.hasOwn(env, k))) block += `${k}=${parent[k]}\0`
    }
  }
  if (env === undefined) return block
  for (const k of Object.keys(env)) {
    const raw = env[k]
    if (raw === undefined) continue
    const v = String(raw)
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) {
      throw invalidArgValue(`options.env['${k}']`, v, "must be a variable name (non-empty, without '=') and a value, neither with null bytes")
    }
    block += `${k}=${v}\0`
  }
  return block
}

// Always absolute, from the directory current at the call: a queued child starts later, on
// another thread, and a process.chdir() in between must not move it (relative PATH entries
// are resolved against this directory too, as execvp in the child would).
function cwdOf(cwd) {
  if (cwd === undefined) return process.cwd()
  return path.resolve(pathString(cwd, 'options.cwd'))
}

// Returns { native, envBlock, input, signal, supervisor, reject, timeout, maxBuffer, killSignal, ... }.
function processOptions(options, Supervisor) {
  const o = validateOptions(options)
  const shell = o.shell
  if (shell !== undefined && typeof shell !== 'boolean' && typeof shell !== 'string') {
    throw invalidArgType('options.shell', 'of type boolean or string', shell)
  }
  const env = envBlock(o.env, check(o.extendEnv, 'extendEnv', 'boolean') !== false)
  const native = {
    cwd: cwdOf(o.cwd),
    stdin: check(o.stdin, 'stdin', 'string'),
    stdout: check(o.stdout, 'stdout', 'string'),
    stderr: check(o.stderr, 'stderr', 'string'),
    encoding: check(o.encoding, 'encoding', 'string'),
    stripFinalNewline: check(o.stripFinalNewline, 'stripFinalNewline', 'boolean'),
    timeout: check(o.timeout, 'timeout', 'number'),
    killSignal: stringOrNumber(o.killSignal, 'options.killSignal'),
    forceKillAfter: check(o.forceKillAfter, 'forceKillAfter', 'number'),
    maxBuffer: check(o.maxBuffer, 'maxBuffer', 'number'),
    shell,
    killTree: check(o.killTree, 'killTree', 'boolean'),
    limits: limitsOf(o.limits),
  }
  const input = o.input === undefined ? undefined : toBytes(o.input, 'options.input')
  const supervisor = o.supervisor
  if (supervisor !== undefined && !(supervisor instanceof Supervisor)) {
    throw invalidArgType('options.supervisor', 'an instance of Supervisor', supervisor)
  }
  return {
    native,
    envBlock: env,
    input,
    signal: optionalSignal(o),
    supervisor,
    reject: check(o.reject, 'reject', 'boolean') ?? true,
    timeout: native.timeout,
    maxBuffer: native.maxBuffer ?? 100 * 1024 * 1024,
    killSignal: native.killSignal ?? 'SIGTERM',
    stdin: native.stdin,
    stdout: native.stdout ?? 'pipe',
    stderr: native.stderr ?? 'pipe',
  }
}

// `new Supervisor()`: the two bounds, types only (the binding checks their values).
function supervisorOptions(options) {
  const o = validateOptions(options)
  return { maxConcurrent: optionalNumber(o, 'maxConcurrent'), maxQueue: optionalNumber(o, 'maxQueue') }
}

module.exports = { normalizeArgs, processOptions, supervisorOptions, stringOrNumber }
