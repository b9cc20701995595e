'use strict'
// `npm run package`: the release addon, then in dist/ the main package tarball and one
// platform-package tarball per built target, wired the napi-rs way: the main package lists each
// platform package in `optionalDependencies`, npm installs only the one whose os/cpu/libc match,
// and binding.js loads it when no local `offload.<platform>.node` exists.
//
//   node scripts/package.js [napi build args...]   build (e.g. --target aarch64-unknown-linux-musl), then pack
//   node scripts/package.js --no-build             pack the offload.*.node files already here (CI's publish job)
//
// Only targets whose .node is present get a platform package and an optionalDependencies entry,
// so a local run never points npm at packages that were not built.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

// Rust target triple → napi platform suffix, os, cpu, libc (the ones offload supports: Linux only).
const TARGETS = {
  'x86_64-unknown-linux-gnu': { suffix: 'linux-x64-gnu', cpu: 'x64', libc: 'glibc' },
  'aarch64-unknown-linux-gnu': { suffix: 'linux-arm64-gnu', cpu: 'arm64', libc: 'glibc' },
  'x86_64-unknown-linux-musl': { suffix: 'linux-x64-musl', cpu: 'x64', libc: 'musl' },
  'aarch64-unknown-linux-musl': { suffix: 'linux-arm64-musl', cpu: 'arm64', libc: 'musl' },
}

function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`)
  return execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
}

function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dist], { cwd: dir, encoding: 'utf8' })
  const [info] = JSON.parse(out)
  console.log(`dist/${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`)
  return info
}

function main() {
  const args = process.argv.slice(2)
  const build = !args.includes('--no-build')
  if (build) {
    // Release binaries leave out the test kernels (no `--features test-kernels`). The committed
    // loader and typings are generated with them (scripts/test.js checks for drift), so the
    // featureless ones this build writes are put back afterwards.
    const generated = ['binding.js', 'binding.d.ts'].map((f) => path.join(root, 'napi', f))
    const committed = generated.map((f) => fs.readFileSync(f))
    try {
      run('npx', ['napi', 'build', '--platform', '--release', '--manifest-path', 'napi/Cargo.toml', '--js', 'binding.js', '--dts', 'binding.d.ts', ...args])
    } finally {
      generated.forEach((f, i) => fs.writeFileSync(f, committed[i]))
    }
  }
  fs.rmSync(dist, { recursive: true, force: true })
  const stage = path.join(dist, '.stage')
  fs.mkdirSync(stage, { recursive: true })

  const built = pkg.napi.targets.map((triple) => {
    const t = TARGETS[triple]
    if (!t) throw new Error(`scripts/package.js: no platform mapping for napi target ${triple}`)
    return { triple, ...t, node: `${pkg.napi.binaryName}.${t.suffix}.node` }
  }).filter((t) => fs.existsSync(path.join(root, 'napi', t.node)))
  if (built.length === 0) throw new Error('scripts/package.js: no napi/offload.<platform>.node to package; build first')

  for (const t of built) {
    const dir = path.join(stage, t.suffix)
    fs.mkdirSync(dir)
    fs.copyFileSync(path.join(root, 'napi', t.node), path.join(dir, t.node))
    fs.copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'))
    const platformPkg = {
      name: `${pkg.name}-${t.suffix}`,
      version: pkg.version,
      description: `The ${t.triple} binary of ${pkg.name}; installed by ${pkg.name} as an optional dependency.`,
      os: ['linux'],
      cpu: [t.cpu],
      libc: [t.libc],
      main: t.node,
      files: [t.node],
      license: pkg.license,
      engines: pkg.engines,
      repository: pkg.repository,
      homepage: pkg.homepage,
      bugs: pkg.bugs,
    }
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(platformPkg, null, 2) + '\n')
    pack(dir)
  }

  // The main package: exactly the files `npm pack` takes from the clone (the `files` list, so no
  // .node), with the optional dependencies added and only the install hook among the scripts.
  const main = path.join(stage, pkg.name)
  const [listing] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }))
  for (const { path: f } of listing.files) {
    fs.mkdirSync(path.dirname(path.join(main, f)), { recursive: true })
    fs.copyFileSync(path.join(root, f), path.join(main, f))
  }
  const mainPkg = { ...pkg, scripts: { install: pkg.scripts.install } }
  delete mainPkg.devDependencies
  mainPkg.optionalDependencies = Object.fromEntries(built.map((t) => [`${pkg.name}-${t.suffix}`, pkg.version]))
  fs.writeFileSync(path.join(main, 'package.json'), JSON.stringify(mainPkg, null, 2) + '\n')
  pack(main)
  fs.rmSync(stage, { recursive: true, force: true })
}

main()
