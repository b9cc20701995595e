'use strict'
// Error codes are constants, defined once per language and documented once: the binding's in
// napi/src/errors.rs, the JS layer's in lib/shared/codes.js, the user's table in docs/errors.md.
// These checks keep the three in step and keep code strings from creeping back into lib/.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const codes = require('../lib/shared/codes')

const rust = [...fs.readFileSync(path.join(root, 'napi/src/errors.rs'), 'utf8')
  .matchAll(/pub\(crate\) const (\w+): &str = "([^"]*)";/g)].map((m) => [m[1], m[2]])

// Every backticked code in the first column of docs/errors.md's table.
const documented = new Set(fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8')
  .split('\n').filter((l) => l.startsWith('| `'))
  .flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1])))

// Codes the binding makes but never hands to users as an error's `code`: EPIPE is answered by
// dropping the write (docs/subprocess.md), not by an error.
const UNDOCUMENTED = new Set(['EPIPE'])

test('each constant is named after its value, in both languages', () => {
  assert.ok(rust.length >= 20, `parsed only ${rust.length} constants from napi/src/errors.rs`)
  for (const [name, value] of rust) assert.equal(value, name, `napi/src/errors.rs: ${name}`)
  for (const [name, value] of Object.entries(codes)) assert.equal(value, name, `lib/shared/codes.js: ${name}`)
})

test('the JS constants include every code the binding can produce', () => {
  const missing = rust.map(([name]) => name).filter((name) => !(name in codes))
  assert.deepEqual(missing, [], 'add them to lib/shared/codes.js')
})

test('docs/errors.md documents exactly the codes offload produces', () => {
  assert.ok(documented.size >= 20, `parsed only ${documented.size} codes from docs/errors.md`)
  const undocumented = Object.keys(codes).filter((c) => !documented.has(c) && !UNDOCUMENTED.has(c))
  assert.deepEqual(undocumented, [], 'add a row to docs/errors.md')
  const unknown = [...documented].filter((c) => !(c in codes))
  assert.deepEqual(unknown, [], 'documented codes that no constant defines')
})

test('no file under lib/ spells a code as a string', () => {
  const found = []
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name)
      if (e.isDirectory()) walk(file)
      else if (e.name.endsWith('.js') && file !== require.resolve('../lib/shared/codes')) {
        // Comments may name codes (in backticks); code may not.
        const text = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\/?\*)/.test(l)).join('\n')
        for (const m of text.matchAll(/(['"`])([A-Z][A-Z_]+)\1/g)) {
          if (m[2] in codes) found.push(`${path.relative(root, file)}: ${m[0]}`)
        }
      }
    }
  }
  walk(path.join(root, 'lib'))
  assert.deepEqual(found, [], 'use the constants of lib/shared/codes.js')
})
