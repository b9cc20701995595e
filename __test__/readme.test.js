'use strict'
// The docs' promises and links, checked. docs/how-it-works.md's "Guarantees and their tests" table
// names the test behind each promise: a renamed or deleted test must fail here rather than leave a
// promise that nothing holds. Every relative link in README.md and docs/*.md must reach a file and,
// with a #fragment, a heading in it; the pages the package ships may link only to files it ships.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const GUARANTEES = 'docs/how-it-works.md'

// [{ guarantee, refs: [{ file, names }] }] from the section's table rows.
function guaranteeRows() {
  const page = fs.readFileSync(path.join(root, GUARANTEES), 'utf8')
  const start = page.indexOf('\n## Guarantees and their tests\n')
  assert.ok(start >= 0, `${GUARANTEES} has a "Guarantees and their tests" section`)
  const end = page.indexOf('\n## ', start + 1)
  const rows = page.slice(start, end < 0 ? undefined : end).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| guarantee'))
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

test('every test the docs name as holding a guarantee exists', () => {
  const rows = guaranteeRows()
  assert.ok(rows.length >= 30, `the table lists the guarantees (${rows.length} rows read)`)
  for (const { guarantee, refs } of rows) {
    assert.ok(refs.length > 0, `"${guarantee}" names a test file`)
    for (const { file, names } of refs) {
      // Rust tests and scripts by their path from the root, node:test files within __test__/.
      const full = /^(src|napi|scripts)\//.test(file) ? path.join(root, file) : path.join(__dirname, file)
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

// A page's text outside fenced code blocks, line by line.
function proseLines(text) {
  let fenced = false
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced
    return !fenced && !line.startsWith('```')
  })
}

// The anchors GitHub gives a page's headings: lower case, punctuation dropped (hyphens and
// underscores kept), spaces as hyphens, and -1, -2, … after a repeated one (github-slugger).
function anchors(text) {
  const seen = new Map()
  const out = new Set()
  for (const line of proseLines(text)) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (m === null) continue
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

// Relative link targets of a page, code spans and blocks left out (they hold no links).
function relativeLinks(text) {
  const prose = proseLines(text).join('\n').replace(/`[^`\n]*`/g, '')
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]).filter((t) => !/^(https?:|mailto:)/.test(t))
}

// Problems with the relative links of `page` (a path from `base`), as messages.
function brokenLinks(base, page) {
  const problems = []
  const text = fs.readFileSync(path.join(base, page), 'utf8')
  for (const target of relativeLinks(text)) {
    const [file, fragment] = target.split('#')
    const full = file === '' ? path.join(base, page) : path.join(base, path.dirname(page), file)
    if (!fs.existsSync(full)) {
      problems.push(`${page}: ${target} names no file`)
      continue
    }
    if (fragment !== undefined && !anchors(fs.readFileSync(full, 'utf8')).has(fragment)) {
      problems.push(`${page}: ${target} names no heading of ${path.relative(base, full)}`)
    }
  }
  return problems
}

const pages = () => ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

test('every relative link in README.md and docs/*.md reaches a file and a heading', () => {
  const all = pages()
  assert.ok(all.length >= 9, `pages read: ${all}`)
  assert.deepEqual(all.flatMap((page) => brokenLinks(root, page)), [])
})

test('the link check catches a missing file and a missing heading', (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'offload-links-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'docs'))
  fs.writeFileSync(path.join(dir, 'docs', 'a.md'), '# A page\n\n## Options: `x`, `y`\n\n```\n## not a heading\n```\n')
  fs.writeFileSync(path.join(dir, 'README.md'), [
    '[ok](docs/a.md) [ok](docs/a.md#options-x-y) [ok](#readme) `[not a link](nowhere.md)`',
    '[bad](docs/b.md) [bad](docs/a.md#not-a-heading) [bad](#options)',
    '# README',
  ].join('\n'))
  assert.deepEqual(brokenLinks(dir, 'README.md'), [
    'README.md: docs/b.md names no file',
    'README.md: docs/a.md#not-a-heading names no heading of docs/a.md',
    'README.md: #options names no heading of README.md',
  ])
})

// README.md and the docs are read in node_modules/offload too: a relative link there must name a
// file the package ships; everything else links to the repository.
const shipped = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).files
const isShipped = (file) => ['README.md', 'LICENSE', 'package.json'].includes(file) ||
  shipped.some((entry) => entry === file || (entry.endsWith('/') && file.startsWith(entry)))
test('every relative link in the shipped pages names a file the npm package ships', () => {
  let read = 0
  for (const page of pages().filter(isShipped)) {
    const text = fs.readFileSync(path.join(root, page), 'utf8')
    for (const target of relativeLinks(text)) {
      const file = target.replace(/#.*$/, '')
      if (file === '') continue
      read++
      const fromRoot = path.relative(root, path.join(root, path.dirname(page), file))
      assert.ok(isShipped(fromRoot), `${page}: ${target} is in package.json files`)
    }
  }
  assert.ok(read >= 20, `relative links read: ${read}`)
})
