'use strict'
// Bad arguments reject (never throw, never crash) with Node-style classes and codes that name
// the argument and the value received.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool, hash, hmac, hashMany, compress, decompress } = require('..')
const { spin } = require('offload/testing')

const cases = [
  ['unknown algorithm', () => hash('sha999', 'x'), TypeError, 'ERR_INVALID_ARG_VALUE', /'algorithm'.*Received 'sha999'/],
  ['algorithm type', () => hash(256, 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"algorithm" argument must be of type string\. Received type number \(256\)/],
  ['data type', () => hash('sha256', 42), TypeError, 'ERR_INVALID_ARG_TYPE', /"data" argument .*Received type number \(42\)/],
  ['data null', () => hash('sha256', null), TypeError, 'ERR_INVALID_ARG_TYPE', /Received null/],
  ['data object', () => hash('sha256', {}), TypeError, 'ERR_INVALID_ARG_TYPE', /Received an instance of Object/],
  ['encoding value', () => hash('sha256', 'x', { encoding: 'utf9' }), TypeError, 'ERR_INVALID_ARG_VALUE', /'options.encoding'.*Received 'utf9'/],
  ['encoding type', () => hash('sha256', 'x', { encoding: 1 }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.encoding" property/],
  ['options type', () => hash('sha256', 'x', 'hex'), TypeError, 'ERR_INVALID_ARG_TYPE', /"options" argument must be of type object/],
  ['hmac key type', () => hmac('sha256', 5, 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"key" argument/],
  ['hashMany not array', () => hashMany('sha256', 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"datas" argument/],
  ['hashMany bad item', () => hashMany('sha256', ['a', 3]), TypeError, 'ERR_INVALID_ARG_TYPE', /"datas\[1\]" argument/],
  ['unknown format', () => compress('rar', 'x'), TypeError, 'ERR_INVALID_ARG_VALUE', /'format'.*Received 'rar'/],
  ['level range', () => compress('gzip', 'x', { level: 10 }), RangeError, 'ERR_OUT_OF_RANGE', /"options.level" is out of range\. It must be >= 0 && <= 9.*Received 10/],
  ['brotli level range', () => compress('brotli', 'x', { level: 12 }), RangeError, 'ERR_OUT_OF_RANGE', /<= 11/],
  ['level integer', () => compress('gzip', 'x', { level: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE', /an integer/],
  ['level type', () => compress('gzip', 'x', { level: '9' }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.level" property must be of type number/],
  ['maxOutputLength range', () => decompress('gzip', 'x', { maxOutputLength: -1 }), RangeError, 'ERR_OUT_OF_RANGE', /"options.maxOutputLength"/],
  ['timeout type', () => hash('sha256', 'x', { timeout: '5' }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.timeout"/],
  ['timeout range', () => hash('sha256', 'x', { timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE', /"options.timeout"/],
  ['timeout NaN', () => hash('sha256', 'x', { timeout: NaN }), RangeError, 'ERR_OUT_OF_RANGE', /Received NaN/],
  ['signal type', () => hash('sha256', 'x', { signal: {} }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.signal" property must be an instance of AbortSignal/],
  ['priority value', () => hash('sha256', 'x', { priority: 'urgent' }), TypeError, 'ERR_INVALID_ARG_VALUE', /'options.priority' must be one of: 'high', 'normal', 'low'\. Received 'urgent'/],
  ['pool type', () => hash('sha256', 'x', { pool: {} }), TypeError, 'ERR_INVALID_ARG_TYPE', /"options.pool" property must be an instance of Pool/],
  ['spin ms type', () => spin('1'), TypeError, 'ERR_INVALID_ARG_TYPE', /"ms" argument/],
]

for (const [name, call, Ctor, code, message] of cases) {
  test(`rejects ${name} with ${code}`, async () => {
    let promise
    assert.doesNotThrow(() => { promise = call() }, 'kernels report errors through the promise')
    await assert.rejects(promise, (err) => {
      assert.ok(err instanceof Ctor, `${err.constructor.name}: ${err.message}`)
      assert.equal(err.code, code)
      assert.match(err.message, message)
      return true
    })
  })
}

test('new Pool validates its options synchronously', () => {
  assert.throws(() => new Pool({ threads: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /"options.threads"/ })
  assert.throws(() => new Pool({ threads: 2.5 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Pool({ threads: '2' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Pool({ maxQueue: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /"options.maxQueue"/ })
  assert.throws(() => new Pool({ name: '' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new Pool({ name: 5 }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Pool('x'), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Pool({ nice: 20 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /"options.nice"/ })
  assert.throws(() => new Pool({ nice: 'low' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.equal(new Pool({ maxQueue: Infinity }).maxQueue, Infinity)
  assert.equal(new Pool({ maxQueue: 0 }).maxQueue, 0)
})
