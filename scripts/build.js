'use strict'
// `npm install` hook: builds the native addon from source unless a loadable one is present.
//
// In a clone (dev dependencies installed) it runs `napi build`, which also regenerates the
// committed loader and typings. Installed from a tarball there is no napi CLI, so it runs
// cargo directly and copies the library to where `binding.js` looks for it.
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

function platformSuffix() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

const target = path.join(root, `offload.${platformSuffix()}.node`)

function loads(file) {
  if (!fs.existsSync(file)) return false
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' })
  return probe.status === 0
}

function run(cmd, args) {
  console.log(`offload: ${cmd} ${args.join(' ')}`)
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })
}

function main() {
  if (process.env.OFFLOAD_SKIP_BUILD) return
  const inClone = fs.existsSync(path.join(root, '.git'))
  if (!inClone && loads(target)) return
  const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' })
  if (cargo.error || cargo.status !== 0) {
    console.error('offload: no prebuilt binary for this platform, and building from source needs the Rust toolchain (cargo). Install it from https://rustup.rs and reinstall.')
    process.exit(1)
  }
  const napiCli = path.join(root, 'node_modules', '@napi-rs', 'cli')
  if (fs.existsSync(napiCli)) {
    run('npx', ['napi', 'build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts'])
    return
  }
  run('cargo', ['build', '--release', '--lib'])
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
  const lib = process.platform === 'darwin' ? 'liboffload.dylib' : process.platform === 'win32' ? 'offload.dll' : 'liboffload.so'
  fs.copyFileSync(path.join(targetDir, 'release', lib), target)
}

main()
