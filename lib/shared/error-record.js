'use strict'
// Errors as data, for the pools whose workers run the user's code: `describeError` turns what a
// handler threw into a plain record (name, message, stack, code, own enumerable properties)
// that survives a pipe or a serializer; `reviveError` makes an Error of it on the caller's side.
// Shared by the process pool (over docs/protocol.md) and the thread pool (over v8.serialize).

// What a thrown value becomes on the wire: name, message, stack, code, and the error's other
// own enumerable properties. Reading them runs the error's getters: one that throws costs
// that field, not the reply.
function describeError(err) {
  if (!(err instanceof Error)) {
    let text
    try {
      text = typeof err === 'string' ? err : `non-error thrown: ${String(err)}`
    } catch {
      text = 'non-error thrown'
    }
    return { name: 'Error', message: text, props: {} }
  }
  const read = (key) => {
    try {
      return err[key]
    } catch {
      return undefined
    }
  }
  const props = {}
  let keys = []
  try {
    keys = Object.keys(err)
  } catch {}
  for (const key of keys) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'code') continue
    // An own `__proto__` key stays a key (an assignment would replace the prototype of props).
    Object.defineProperty(props, key, { value: read(key), enumerable: true, writable: true, configurable: true })
  }
  const text = (v) => (typeof v === 'string' ? v : undefined)
  return { name: text(read('name')) ?? 'Error', message: text(read('message')) ?? '', stack: text(read('stack')), code: read('code'), props }
}

// Rebuilds an error thrown in a worker: same class where it is a built-in one, same name,
// message and code, the worker's stack, and the error's other own properties, as data only.
const BUILTIN = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }
/**
 * @param {any} e the decoded `error` field of the reply
 * @param {string} where appended to the stack as its last frame, e.g. `offload worker pid 7`
 */
function reviveError(e, where) {
  const described = e !== null && typeof e === 'object' ? e : { name: 'Error', message: String(e) }
  const Ctor = Object.hasOwn(BUILTIN, described.name) ? BUILTIN[described.name] : Error
  /** @type {Error & Record<string, unknown>} */
  const err = new Ctor(typeof described.message === 'string' ? described.message : String(described.message))
  if (typeof described.name === 'string' && err.name !== described.name) {
    Object.defineProperty(err, 'name', { value: described.name, writable: true, configurable: true })
  }
  if (described.code !== undefined && described.code !== null) err.code = described.code
  if (described.props !== null && typeof described.props === 'object') {
    for (const k of Object.keys(described.props)) {
      // Never over a member the error has, own or inherited: a `toString` or `valueOf` copied
      // as data breaks `${err}`, a `constructor` breaks class checks, and name, message, stack
      // and code come from their own fields. (`__proto__` is an own key in the parsed JSON.)
      if (k === '__proto__' || k === 'code' || k in err) continue
      err[k] = described.props[k]
    }
  }
  if (typeof described.stack === 'string') {
    Object.defineProperty(err, 'stack', { value: `${described.stack}\n    at <${where}>`, writable: true, configurable: true })
  }
  return err
}

module.exports = { describeError, reviveError }
