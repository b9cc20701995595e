'use strict'
// `npm install` hook. Installed from the registry or a tarball, npm has normally put the
// prebuilt binary in place already (the `offload-<platform>` optional dependency), and this
// exits at once. Only when no binary loads does it build from source with cargo, in a
// temporary target directory outside the package (so no build residue lands in node_modules).
//
// In a clone (dev dependencies installed) it runs `napi build`, which also regenerates the
// committed loader and typings.
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { platformSuffix } = require('../lib/shared/platform')

const root = path.join(__dirname, '..')

// Loads the addon the way `require('offload')` does (local .node, then the platform package),
// in a child process so a crash in a broken binary cannot take the installer down. Returns null
// when it loads, else the reason (lib/shared/native.js's message).
function loadFailure() {
  const code = `try { require(${JSON.stringify(path.join(root, 'lib', 'shared', 'native.js'))}) } catch (e) { process.stdout.write(String(e.message)); process.exit(1) }`
  const probe = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' })
  return probe.status === 0 ? null : (probe.stdout || probe.stderr || `exit ${probe.status}`).trim()
}

function run(cmd, args, env) {
  console.log(`offload: ${cmd} ${args.join(' ')}`)
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env })
}

function main() {
  if (process.env.OFFLOAD_SKIP_BUILD) return
  const inClone = fs.existsSync(path.join(root, '.git'))
  const suffix = platformSuffix()
  if (!inClone) {
    const failure = loadFailure()
    if (failure === null) return
    console.log(`offload: no prebuilt binary loads for ${suffix}:\n${failure.split('\n').filter((l) => l.startsWith('  ')).join('\n')}`)
  }
  const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
  if (cargo.error || cargo.status !== 0) {
    console.error(`offload: no prebuilt binary for ${suffix} loads, and building from source needs the Rust toolchain (cargo), which is not on PATH: install it from https://rustup.rs and run \`npm rebuild offload\`, or install offload-${suffix}.`)
    process.exit(1)
  }
  const napiCli = path.join(root, 'node_modules', '@napi-rs', 'cli')
  if (inClone && fs.existsSync(napiCli)) {
    // A clone is for development: build with the test kernels, as `npm run build` does.
    run('npx', ['napi', 'build', '--platform', '--release', '--manifest-path', 'napi/Cargo.toml', '--features', 'test-kernels', '--js', 'binding.js', '--dts', 'binding.d.ts'])
    return
  }
  // A CARGO_TARGET_DIR the user set is theirs to keep (and reuses their cache); otherwise build
  // in a temporary directory and remove it, so nothing is left inside node_modules.
  const own = !process.env.CARGO_TARGET_DIR
  const targetDir = own ? fs.mkdtempSync(path.join(os.tmpdir(), 'offload-build-')) : path.resolve(root, process.env.CARGO_TARGET_DIR)
  console.log(`offload: building the native addon from source with cargo in ${targetDir} (a cold release build takes about 1-2 minutes on 2 cores)`)
  try {
    run('cargo', ['build', '--release', '--lib', '-p', 'offload'], { ...process.env, CARGO_TARGET_DIR: targetDir })
    const lib = process.platform === 'darwin' ? 'liboffload.dylib' : process.platform === 'win32' ? 'offload.dll' : 'liboffload.so'
    fs.copyFileSync(path.join(targetDir, 'release', lib), path.join(root, 'napi', `offload.${suffix}.node`))
    console.log(`offload: built napi/offload.${suffix}.node`)
  } finally {
    if (own) fs.rmSync(targetDir, { recursive: true, force: true })
  }
}

main()
