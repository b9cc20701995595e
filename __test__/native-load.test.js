'use strict'
// When no native binary loads, require('offload') names the platform package it looked for,
// why each candidate failed, and the fix, instead of the generated loader's npm-bug/WASI text.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const pkg = `offload-linux-${process.arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`

// A copy of the package's JS (what an install with --ignore-scripts and no platform package
// leaves) in a fresh app, so neither the clone's .node nor its node_modules can be found.
function app(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-noload-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const dest = path.join(dir, 'node_modules', 'offload')
  fs.mkdirSync(path.join(dest, 'napi'), { recursive: true })
  for (const f of ['package.json', 'index.js', 'napi/binding.js', 'lib']) {
    fs.cpSync(path.join(root, f), path.join(dest, f), { recursive: true })
  }
  return { dir, dest }
}

function load(cwd) {
  const env = { ...process.env }
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH
  delete env.NODE_PATH
  // Only the thrown error's own message and code count: its `cause` (the generated loader's
  // error) also carries the dlopen text, which must not make the assertions pass.
  const code = "try { require('offload') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(3) }"
  const r = spawnSync(process.execPath, ['-e', code], { cwd, env, encoding: 'utf8' })
  assert.equal(r.status, 3, r.stderr)
  return JSON.parse(r.stdout)
}

test('no binary at all: the error names the platform package, "not installed", and the fixes', (t) => {
  const { dir } = app(t)
  const r = load(dir)
  assert.equal(r.code, 'ERR_OFFLOAD_NATIVE_LOAD')
  assert.match(r.message, new RegExp(`platform package ${pkg}: not installed`))
  assert.match(r.message, /offload\.linux-\w+-\w+\.node: not built/)
  assert.match(r.message, /npm rebuild offload/)
  assert.match(r.message, new RegExp(`npm install ${pkg}`))
  assert.doesNotMatch(r.message, /wasm32-wasi|npm has a bug/)
})

test('a binary that fails to load: the error carries the dlopen reason', (t) => {
  const { dir, dest } = app(t)
  const file = path.join(dest, 'napi', `offload.${pkg.slice('offload-'.length)}.node`)
  fs.writeFileSync(file, 'not an ELF file')
  const r = load(dir)
  assert.equal(r.code, 'ERR_OFFLOAD_NATIVE_LOAD')
  // glibc's dlopen says "invalid ELF header" / "file too short"; the reason is on the file's line.
  assert.match(r.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(invalid ELF header|file too short)`))
  assert.match(r.message, new RegExp(`platform package ${pkg}: not installed`))
})
