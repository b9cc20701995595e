'use strict'
// `npm test`: every check CI relies on, in order, stopping at the first failure.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const steps = [
  ['cargo', ['fmt', '--check']],
  ['cargo', ['clippy', '--all-targets', '--', '-D', 'warnings']],
  ['cargo', ['test']],
  ['npx', ['napi', 'build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']],
  // The loader and typings are generated and committed; a build must not change them.
  ...(fs.existsSync(path.join(root, '.git')) ? [['git', ['diff', '--exit-code', '--', 'binding.js', 'binding.d.ts']]] : []),
  ['npx', ['tsc', '-p', '__test__/tsconfig.json']],
  ['node', ['--test', '--test-concurrency=1', '__test__/']],
]

for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`\nnpm test: \`${cmd} ${args.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`})`)
    process.exit(1)
  }
}
