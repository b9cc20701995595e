'use strict'
// offload/testing in a build without the `test-kernels` cargo feature (release binaries): every
// function throws a coded ERR_OFFLOAD_TESTING_UNAVAILABLE that names the feature, not a
// TypeError from calling a missing native function. Run in a child process whose loaded
// binding has the test entry points removed, as a featureless build lacks them.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')

const script = `
const binding = require('./lib/shared/native.js')
for (const name of ['submitNoop', 'submitSpin', 'submitPanic', 'testMallocInUse', 'testExternalStringFailure', 'runKeptStringFinalizer']) {
  delete binding[name]
}
const testing = require('offload/testing')
const calls = {
  noop: () => testing.noop(),
  spin: () => testing.spin(1),
  panic: () => testing.panic('x'),
  mallocInUse: () => testing.mallocInUse(),
  externalStringFailure: () => testing.externalStringFailure('later', 'x'),
  runKeptStringFinalizer: () => testing.runKeptStringFinalizer(),
}
const out = {}
for (const [name, f] of Object.entries(calls)) {
  try { f(); out[name] = 'no error' } catch (err) { out[name] = { name: err.name, code: err.code, message: err.message } }
}
console.log(JSON.stringify(out))
`

test('offload/testing without the test kernels throws ERR_OFFLOAD_TESTING_UNAVAILABLE', () => {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(Object.keys(out).length, 6)
  for (const [name, err] of Object.entries(out)) {
    assert.equal(err.code, 'ERR_OFFLOAD_TESTING_UNAVAILABLE', name)
    assert.equal(err.name, 'OffloadError', name)
    assert.match(err.message, /test-kernels/, name)
  }
})
