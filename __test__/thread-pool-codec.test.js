'use strict'
// ThreadPool's codec (lib/thread-pool/codec.js): the JSON fast path is taken only where JSON
// gives exactly what structuredClone gives, and every value, on either path, comes back from a
// worker as structuredClone (the oracle) makes it.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { asJson } = require('../lib/thread-pool/codec')
const { ThreadPool } = require('..')

const cyclic = { a: 1 }
cyclic.self = cyclic
const extra = [1, 2]
extra.note = 'kept'
const deep = {}
let d = deep
for (let i = 0; i < 40; i++) d = d.next = {}
class Point { constructor() { this.x = 1 } }

// [label, value, takes the JSON path]
const CASES = [
  ['null', null, true],
  ['a string', 'héllo \u2028 "q"', true],
  ['an integer', 42, true],
  ['a float', -1.5e300, true],
  ['plain nested', { a: [1, 'two', { three: true }], b: null, 'x y': '' }, true],
  ['integer-like keys', { 2: 'b', 1: 'a', z: 0 }, true],
  ['a null-prototype object', Object.assign(Object.create(null), { k: 1 }), true],
  ['-0', -0, false],
  ['NaN', NaN, false],
  ['Infinity in an array', [Infinity], false],
  ['undefined in an object', { a: undefined }, false],
  ['a hole', [1, , 3], false], // eslint-disable-line no-sparse-arrays
  ['an array with a property', extra, false],
  ['a Date', new Date(0), false],
  ['a Map', new Map([[1, 2]]), false],
  ['a BigInt', 10n, false],
  ['a class instance', new Point(), false],
  ['a Buffer', Buffer.from('ab'), false],
  ['a cycle', cyclic, false],
  ['40 levels deep', deep, false],
  ['a long array', Array.from({ length: 5000 }, (_, i) => i), false],
]

test('asJson takes only values JSON carries exactly', () => {
  for (const [label, value, json] of CASES) {
    const text = asJson(value)
    assert.equal(text !== undefined, json, label)
    if (text !== undefined) assert.deepStrictEqual(JSON.parse(text), structuredClone(value), label)
  }
})

test('every case comes back from a worker as structuredClone makes it, as payload and as result', async () => {
  const pool = new ThreadPool({ script: path.join(__dirname, 'fixtures', 'thread-worker.js'), threads: 1 })
  try {
    for (const [label, value] of CASES) {
      const got = await pool.run(value, { name: 'echo' })
      const want = structuredClone(value)
      if (Buffer.isBuffer(value)) assert.deepStrictEqual(got, value, label) // a Buffer stays a Buffer
      else assert.deepStrictEqual(got, want, label)
    }
  } finally {
    await pool.destroy()
  }
})
