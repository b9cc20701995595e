'use strict'
// The README's Quick start, as a user pastes it: the code block is examples/quick-start.js
// byte for byte, and that file, started as is, answers what its curl lines send.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn } = require('node:child_process')
const { compress } = require('..')

const root = path.join(__dirname, '..')
const example = path.join(root, 'examples', 'quick-start.js')

function quickStartBlock() {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('\n## Quick start\n')
  assert.ok(start >= 0, 'the README has a Quick start section')
  const end = readme.indexOf('\n## ', start + 1)
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(start, end))
  assert.ok(m !== null, 'the Quick start has a js code block')
  return m[1]
}

// Starts the example on a free port; resolves with its port once it listens.
function startExample(t) {
  const child = spawn(process.execPath, [example], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not listen within 30 s: ${out}${err}`)), 30_000)
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on http:\/\/localhost:(\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the example exited (${code}) before listening: ${out}${err}`))
    })
  })
}

// What curl sends: POST, the body, and a content type (curl's default for --data-binary is
// application/x-www-form-urlencoded; `headers` null sends none at all).
function post(port, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, path: '/upload', method: 'POST', headers: { 'content-length': body.length, ...headers } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('the README Quick start is examples/quick-start.js', () => {
  assert.equal(quickStartBlock(), fs.readFileSync(example, 'utf8'))
})

test('the Quick start answers curl --data-binary uploads of any content type and refuses an empty body with a 400 JSON', async (t) => {
  const port = await startExample(t)
  const file = Buffer.from('offload quick start\n'.repeat(5000) + crypto.randomBytes(3000).toString('hex'))
  for (const type of ['application/x-www-form-urlencoded', 'application/octet-stream', 'text/plain']) {
    const r = await post(port, file, { 'content-type': type })
    assert.equal(r.status, 200, `${type}: ${r.body}`)
    assert.match(r.type, /^application\/json/)
    const body = JSON.parse(r.body)
    assert.equal(body.digest, crypto.createHash('sha256').update(file).digest('hex'), type)
    assert.equal(body.bytes, file.length, type)
    // The same compression here gives the length reported, and it is the input gzipped.
    const gz = await compress('gzip', file, { level: 6 })
    assert.equal(body.compressed, gz.length, type)
    assert.deepEqual(zlib.gunzipSync(gz), file)
  }
  for (const headers of [{ 'content-type': 'application/x-www-form-urlencoded' }, {}]) {
    const r = await post(port, Buffer.alloc(0), headers)
    assert.equal(r.status, 400, r.body)
    assert.match(r.type, /^application\/json/)
    assert.equal(typeof JSON.parse(r.body).error, 'string')
  }
})
