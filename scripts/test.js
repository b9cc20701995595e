'use strict'
// `npm test`: every check CI relies on, in order, stopping at the first failure.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
// A hang must fail the run, not hold CI until its own deadline. Node 20 applies --test-timeout
// to each test file as a whole (the file's process), not to each test in it; the slowest files
// take about 25 s on a loaded 2-core machine, so 5 minutes per file leaves a wide margin. The
// install test (packing, installing, building from source) is `npm run test:install`.
const files = fs.readdirSync(path.join(root, '__test__'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => `__test__/${f}`)
const steps = [
  // No file over 400 lines outside tests, no cycle between sibling modules (docs/architecture.md).
  ['node', ['scripts/check-layout.js']],
  ['cargo', ['fmt', '--all', '--check']],
  // --all-features: the test-kernels code is linted too.
  ['cargo', ['clippy', '--workspace', '--all-targets', '--all-features', '--', '-D', 'warnings']],
  ['cargo', ['test', '--workspace']],
  // With the test kernels `offload/testing` needs (release tarballs are built without them).
  ['npx', ['napi', 'build', '--platform', '--release', '--manifest-path', 'napi/Cargo.toml', '--features', 'test-kernels', '--js', 'binding.js', '--dts', 'binding.d.ts']],
  // The loader and typings are generated (with the test kernels) and committed; a build must not change them.
  ...(fs.existsSync(path.join(root, '.git')) ? [['git', ['diff', '--exit-code', '--', 'napi/binding.js', 'napi/binding.d.ts']]] : []),
  ['npx', ['tsc', '-p', '__test__/tsconfig.json']],
  // The package's own JavaScript, type-checked (checkJs) against Node's and the binding's typings.
  ['npx', ['tsc', '-p', 'lib/tsconfig.json']],
  ['node', ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files]],
]

for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`\nnpm test: \`${cmd} ${args.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`})`)
    process.exit(1)
  }
}
