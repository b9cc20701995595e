'use strict'
// The README's "Guarantees and their tests" table names the test behind each promise; a renamed
// or deleted test must fail here rather than leave a promise that nothing holds.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

// [{ guarantee, refs: [{ file, names }] }] from the section's table rows.
function guaranteeRows() {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('\n## Guarantees and their tests\n')
  assert.ok(start >= 0, 'the README has a "Guarantees and their tests" section')
  const end = readme.indexOf('\n## ', start + 1)
  const rows = readme.slice(start, end).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| guarantee'))
  return rows.map((row) => {
    const cells = row.split(' | ')
    const heldBy = cells[cells.length - 1]
    const refs = []
    // A file in backticks, then the test names up to the next file: “titles” for node:test,
    // `function_names` for Rust.
    for (const m of heldBy.matchAll(/`([\w/.-]+\.(?:test\.js|rs)|scripts\/[\w-]+\.js)`([^`]*(?:`[a-z0-9_]+`[^`]*)*)/g)) {
      const names = [...m[2].matchAll(/“([^”]+)”|`([a-z0-9_]+)`/g)].map((n) => n[1] ?? n[2])
      refs.push({ file: m[1], names })
    }
    return { guarantee: cells[0].slice(2), refs }
  })
}

test('every test the README names as holding a guarantee exists', () => {
  const rows = guaranteeRows()
  assert.ok(rows.length >= 30, `the table lists the guarantees (${rows.length} rows read)`)
  for (const { guarantee, refs } of rows) {
    assert.ok(refs.length > 0, `"${guarantee}" names a test file`)
    for (const { file, names } of refs) {
      // Rust tests and scripts by their path from the root, node:test files within __test__/.
      const full = /^(src|scripts)\//.test(file) ? path.join(root, file) : path.join(__dirname, file)
      assert.ok(fs.existsSync(full), `${file} exists (named for "${guarantee}")`)
      // Titles may be written with escaped quotes in the source.
      const source = fs.readFileSync(full, 'utf8').replace(/\\(['"])/g, '$1')
      for (const name of names) {
        const found = file.endsWith('.rs') ? source.includes(`fn ${name}(`) : source.includes(name)
        assert.ok(found, `${file} has a test "${name}" (named for "${guarantee}")`)
      }
    }
  }
})

// The README is read in node_modules/offload too: a relative link there must name a file the
// package ships; everything else links to the repository.
const shipped = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).files
test('every relative link in the README names a file the npm package ships', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^(https?:|mailto:|#)/.test(t))
  assert.ok(targets.length >= 4, `relative links read: ${targets}`)
  for (const target of targets) {
    const file = target.replace(/#.*$/, '')
    assert.ok(fs.existsSync(path.join(root, file)), `${target} exists`)
    assert.ok(shipped.some((entry) => entry === file || (entry.endsWith('/') && file.startsWith(entry))), `${target} is in package.json files`)
  }
})
