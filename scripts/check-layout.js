'use strict'
// `npm test` step: the layout rules of docs/architecture.md, checked rather than hoped for.
// 1. No source file over 400 lines, outside tests and generated files.
// 2. No cycle between sibling modules: in Rust, among the modules of one directory (`use super::x`,
//    `crate::a::x`, `super::x::` paths); in JS, among the files of one folder under lib/ and among the
//    folders of lib/ (require graph).
// Prints every violation and exits 1 if there is any.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const MAX_LINES = 400

const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n').filter((f) => f && fs.existsSync(path.join(root, f)))
const isTest = (f) => /(^|\/)__test__\//.test(f) || /(^|\/|_)tests?\.rs$/.test(f) || /(^|\/)tests\//.test(f)
const isGenerated = (f) => /^napi\/binding\.(js|d\.ts)$/.test(f)
const problems = []

for (const f of tracked) {
  if (!/\.(rs|js|mjs|cjs|ts|py)$/.test(f) || isTest(f) || isGenerated(f) || f.startsWith('node_modules/')) continue
  const lines = fs.readFileSync(path.join(root, f), 'utf8').split('\n').length - 1
  if (lines > MAX_LINES) problems.push(`${f}: ${lines} lines (limit ${MAX_LINES})`)
}

// Cycles in a directed graph given as Map<node, Set<node>>; returns each cycle once, as a path.
function cycles(graph) {
  const found = []
  const state = new Map()
  const stack = []
  const visit = (n) => {
    state.set(n, 1)
    stack.push(n)
    for (const m of graph.get(n) || []) {
      if (state.get(m) === 1) found.push([...stack.slice(stack.indexOf(m)), m].join(' -> '))
      else if (!state.has(m)) visit(m)
    }
    stack.pop()
    state.set(n, 2)
  }
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n)
  return found
}

// Rust: a module is a file `dir/x.rs` or a directory `dir/x/` (mod.rs); its imports of siblings are
// `super::y` (from a file module) and `crate::<path of dir>::y` anywhere under it.
function rustModules(dir) {
  const mods = new Map()
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.rs') && !['mod.rs', 'lib.rs', 'main.rs'].includes(e.name)) {
      mods.set(e.name.slice(0, -3), [path.join(dir, e.name)])
    } else if (e.isDirectory()) {
      const files = []
      const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((x) =>
        x.isDirectory() ? walk(path.join(d, x.name)) : x.name.endsWith('.rs') && files.push(path.join(d, x.name)))
      walk(path.join(dir, e.name))
      if (files.length) mods.set(e.name, files)
    }
  }
  return mods
}

function rustCheck(srcRoot, crateDir) {
  const dirs = []
  const walk = (d) => { dirs.push(d); fs.readdirSync(d, { withFileTypes: true }).forEach((x) => x.isDirectory() && walk(path.join(d, x.name))) }
  walk(srcRoot)
  for (const dir of dirs) {
    const mods = rustModules(dir)
    if (mods.size < 2) continue
    const rel = path.relative(srcRoot, dir).split(path.sep).filter(Boolean)
    const cratePath = ['crate', ...rel].join('::')
    const graph = new Map()
    for (const [name, files] of mods) {
      const deps = new Set()
      for (const file of files) {
        if (isTest(path.relative(root, file))) continue
        const text = fs.readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '')
        // `super::` from a file directly in `dir` names a sibling; deeper files' `super::` stays inside.
        const depth = path.relative(dir, file).split(path.sep).length - 1 + (path.basename(file) === 'mod.rs' ? 0 : 1)
        const sup = `${'super::'.repeat(depth)}`
        const refs = []
        for (const m of text.matchAll(/\buse\s+([\w:]+)::\{([^;]*)\}/g)) {
          for (const part of m[2].split(',')) refs.push(`${m[1]}::${part.trim()}`)
        }
        for (const m of text.matchAll(/\b((?:super::)+|crate::)[\w:]+/g)) refs.push(m[0])
        for (const r of refs) {
          let rest = null
          if (r.startsWith(`${cratePath}::`)) rest = r.slice(cratePath.length + 2)
          else if (depth > 0 && r.startsWith(sup) && !r.startsWith(`${sup}super::`)) rest = r.slice(sup.length)
          if (rest === null) continue
          const target = rest.split('::')[0]
          if (target !== name && mods.has(target)) deps.add(target)
        }
      }
      graph.set(name, deps)
    }
    for (const c of cycles(graph)) problems.push(`${path.relative(root, dir) || crateDir}: module cycle ${c}`)
  }
}

rustCheck(path.join(root, 'src'), 'src')
if (fs.existsSync(path.join(root, 'napi', 'src'))) rustCheck(path.join(root, 'napi', 'src'), 'napi/src')

// JS: the require graph of lib/; cycles among files of one folder and among lib/'s folders.
const libRoot = path.join(root, 'lib')
const jsFiles = tracked.filter((f) => f.startsWith('lib/') && /\.(js|cjs)$/.test(f)).map((f) => path.join(root, f))
const edges = new Map()
for (const file of jsFiles) {
  const deps = new Set()
  const text = fs.readFileSync(file, 'utf8')
  for (const m of text.matchAll(/require\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    let target = path.resolve(path.dirname(file), m[1])
    for (const cand of [target, `${target}.js`, path.join(target, 'index.js')]) {
      if (fs.existsSync(cand) && fs.statSync(cand).isFile()) { target = cand; break }
    }
    if (target.startsWith(libRoot + path.sep)) deps.add(target)
  }
  edges.set(file, deps)
}
const byFolder = new Map()
const folderGraph = new Map()
const folderOf = (f) => path.relative(libRoot, path.dirname(f)) || '.'
for (const [file, deps] of edges) {
  const folder = folderOf(file)
  if (!byFolder.has(folder)) byFolder.set(folder, new Map())
  byFolder.get(folder).set(path.basename(file), new Set([...deps].filter((d) => folderOf(d) === folder).map((d) => path.basename(d))))
  if (!folderGraph.has(folder)) folderGraph.set(folder, new Set())
  for (const d of deps) if (folderOf(d) !== folder) folderGraph.get(folder).add(folderOf(d))
}
for (const [folder, graph] of byFolder) for (const c of cycles(graph)) problems.push(`lib/${folder}: require cycle ${c}`)
for (const c of cycles(folderGraph)) problems.push(`lib: folder cycle ${c}`)

if (problems.length) {
  console.error(`check-layout: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`check-layout: ${tracked.length} files, no file over ${MAX_LINES} lines outside tests, no sibling cycles`)
