'use strict'
// The JS half of the tape (src/parse/tape.rs, docs/parsing.md): turns a batch's opcodes, numbers
// and two batch-wide strings into values, in slices the caller bounds by a number of ops, so
// a batch of any size costs the event loop no more than a slice at a time.
//
// Values are pushed straight into the open array (or, inside an object, onto a value stack);
// an object is made at its end by its shape's generated literal `{"k": v[b], ...}`, which V8
// builds like any literal (one map, no per-key transitions), or key by key for shapes seen
// fewer than COMPILE_AFTER times and for very wide ones. `__proto__` is written as a computed
// key (`["__proto__"]: v`) or defined, so it is an own property, as JSON.parse makes it.
// Strings are slices of the batch's strings: V8 shares the batch's text for slices of 13 or
// more characters instead of copying them.

const STR1 = 0
const STR2 = 1
const NUM = 2
const TRUE = 3
const FALSE = 4
const NULL = 5
const ARR = 6
const ARR_END = 7
const OBJ = 8
const OBJ_END = 9
const DATE = 10
const DATE_LOCAL = 11

// A shape gets its literal on its third use: single-use shapes (an object used as a map from
// ids) never pay for a compile.
const COMPILE_AFTER = 2
// Wider objects are built key by key: a literal of thousands of keys compiles slowly.
const MAX_LITERAL_KEYS = 128

// The object shapes of one parse: parents and keys as the binding sends them.
class Shapes {
  constructor() {
    this.reset()
  }

  reset() {
    /** @type {number[]} */
    this.parents = [0]
    /** @type {string[]} */
    this.keys = ['']
    /** @type {(string[] | undefined)[]} */
    this.lists = [[]]
    /** @type {number[]} */
    this.uses = [0]
    /** @type {(((v: unknown[], b: number) => object) | undefined)[]} */
    this.ctors = []
  }

  /** Adds the shapes a batch introduces (`defs`: JSON `[[parent, key], ...]` from `first`). */
  add(first, defs, reset) {
    if (reset) this.reset()
    if (defs === null) return
    const list = JSON.parse(defs)
    for (let i = 0; i < list.length; i++) {
      this.parents[first + i] = list[i][0]
      this.keys[first + i] = list[i][1]
      this.uses[first + i] = 0
    }
  }

  /**
   * The keys of shape `id`, in order: a walk up its parents, cached for `id` only (caching
   * every prefix of a 100k-key object would cost the square of its width).
   */
  list(id) {
    let l = this.lists[id]
    if (l === undefined) {
      l = []
      for (let n = id; n !== 0; n = this.parents[n]) l.push(this.keys[n])
      l.reverse()
      this.lists[id] = l
    }
    return l
  }

  /** The object of shape `id` whose values are `vs[base...]`. */
  make(id, vs, base) {
    const ctor = this.ctors[id]
    if (ctor !== undefined) return ctor(vs, base)
    const keys = this.list(id)
    if (++this.uses[id] > COMPILE_AFTER && keys.length <= MAX_LITERAL_KEYS) {
      const c = literal(keys)
      this.ctors[id] = c
      return c(vs, base)
    }
    const o = {}
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]
      if (k === '__proto__') {
        Object.defineProperty(o, k, { value: vs[base + i], writable: true, enumerable: true, configurable: true })
      } else {
        o[k] = vs[base + i]
      }
    }
    return o
  }
}

// A function returning the object literal of `keys` over `v[b...]`. Keys are written with
// JSON.stringify (a valid JS string literal for any string, lone surrogates escaped), so no
// input can inject code; duplicates keep the last value at the first key's place, as in
// JSON.parse.
function literal(keys) {
  const props = keys.map((k, i) => `${k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)}:v[b+${i}]`)
  // eslint-disable-next-line no-new-func
  return /** @type {(v: unknown[], b: number) => object} */ (new Function('v', 'b', `return {${props.join(',')}}`))
}

// A local-time Date with the fields of `ms` read as UTC (an ISO date-time without an offset).
function localDate(ms) {
  const u = new Date(ms)
  const d = new Date(0)
  d.setFullYear(u.getUTCFullYear(), u.getUTCMonth(), u.getUTCDate())
  d.setHours(u.getUTCHours(), u.getUTCMinutes(), u.getUTCSeconds(), u.getUTCMilliseconds())
  return d
}

/**
 * One batch's values, decoded a slice at a time: `run(n)` decodes at most `n` ops and says
 * whether the batch is done; `out` then holds its top-level values.
 */
class Decoder {
  /** @param {Shapes} shapes @param {any} tape */
  constructor(shapes, tape) {
    this.shapes = shapes
    this.tape = tape
    this.i = 0
    this.li = 0
    this.ni = 0
    this.p1 = 0
    this.p2 = 0
    /** @type {unknown[]} */
    this.out = []
    /** @type {unknown[] | null} the open array, null inside an object */
    this.cur = this.out
    /** @type {(unknown[] | null)[]} */
    this.frames = []
    /** @type {number[]} */
    this.bases = []
    /** @type {unknown[]} */
    this.vs = []
  }

  run(budget) {
    const { ops, lens, nums, text1, text2 } = this.tape
    const { shapes, frames, bases, vs } = this
    let { i, li, ni, p1, p2, cur } = this
    const end = Math.min(ops.length, i + budget)
    while (i < end) {
      const o = ops[i++]
      let v
      switch (o & 15) {
        case STR1: v = text1.slice(p1, p1 += lens[li++]); break
        case STR2: v = text2.slice(p2, p2 += lens[li++]); break
        case NUM: v = nums[ni++]; break
        case TRUE: v = true; break
        case FALSE: v = false; break
        case NULL: v = null; break
        case ARR: frames.push(cur); cur = []; continue
        case OBJ: frames.push(cur); bases.push(vs.length); cur = null; continue
        case ARR_END: v = cur; cur = /** @type {unknown[] | null} */ (frames.pop()); break
        case OBJ_END: {
          const base = /** @type {number} */ (bases.pop())
          v = shapes.make(o >>> 4, vs, base)
          vs.length = base
          cur = /** @type {unknown[] | null} */ (frames.pop())
          break
        }
        case DATE: v = new Date(nums[ni++]); break
        case DATE_LOCAL: v = localDate(nums[ni++]); break
        default: throw new Error(`offload: unknown tape op ${o}`)
      }
      if (cur !== null) cur.push(v)
      else vs.push(v)
    }
    Object.assign(this, { i, li, ni, p1, p2, cur })
    return i === ops.length
  }
}

/**
 * A `shape: 'columns'` batch: `{ [name]: Float64Array | unknown[] }`. Numeric columns are
 * views of the batch's buffer (no copy); the others take the tape's values row by row.
 */
function columnsOf(names, tape) {
  const rows = tape.rows
  /** @type {Record<string, Float64Array | unknown[]>} */
  const batch = {}
  const numeric = new Map(tape.numeric.map((c, k) => [c, tape.columns[k]]))
  /** @type {unknown[][]} */
  const text = []
  for (let c = 0; c < names.length; c++) {
    const col = numeric.get(c) ?? new Array(rows)
    if (!numeric.has(c)) text.push(/** @type {unknown[]} */ (col))
    if (names[c] === '__proto__') {
      Object.defineProperty(batch, names[c], { value: col, writable: true, enumerable: true, configurable: true })
    } else {
      batch[names[c]] = col
    }
  }
  // Values come row-major; the decoder's flat output is read back into columns.
  return { batch, text }
}

module.exports = { Shapes, Decoder, columnsOf }
