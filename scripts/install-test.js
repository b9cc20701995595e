'use strict'
// `npm run test:install` (run by .ci/run after `npm test`): offload the way a new user meets it.
// Packs the release tarballs (`npm run package`), installs them into a fresh app with cargo and
// rustc off PATH, then runs the README's Quick start (Express, curl-equivalent requests) and a
// Python worker; then installs the main tarball alone, without Rust (one clear line) and with it
// (the source fallback). Prints the install time, node_modules size and require time it measures.
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn, spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const suffix = require('../lib/shared/platform').platformSuffix()
const platformPkg = `${pkg.name}-${suffix}`

// A user's environment without Rust: PATH minus every directory holding cargo or rustc, the
// toolchain's homes pointed nowhere, and none of the npm_* variables `npm run` exports.
function userEnv() {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^CARGO|^RUSTUP|^NODE_PATH$|^NAPI_RS/i.test(k)) env[k] = v
  env.PATH = process.env.PATH.split(path.delimiter)
    .filter((d) => d && !['cargo', 'rustc'].some((b) => fs.existsSync(path.join(d, b))))
    .join(path.delimiter)
  env.CARGO_HOME = '/nonexistent/cargo'
  env.RUSTUP_HOME = '/nonexistent/rustup'
  const probe = spawnSync('cargo', ['--version'], { env })
  assert.ok(probe.error || probe.status !== 0, 'cargo is still reachable in the user environment')
  return env
}

function dirSize(dir) {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) total += dirSize(p)
    else if (e.isFile()) total += fs.statSync(p).size
  }
  return total
}

function findDirs(dir, name, found = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue
    const p = path.join(dir, e.name)
    if (e.name === name) found.push(p)
    else findDirs(p, name, found)
  }
  return found
}

function newApp(parent, name) {
  const app = path.join(parent, name)
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  return app
}

function request(port, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/upload', headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

// The first ```js block under "## Quick start" in the README the package ships, run as pasted.
// OFFLOAD_QUICKSTART_README reads another README instead (to check one before it is merged).
function quickStart(app) {
  const readme = process.env.OFFLOAD_QUICKSTART_README || path.join(app, 'node_modules', 'offload', 'README.md')
  const text = fs.readFileSync(readme, 'utf8')
  const section = text.slice(text.indexOf('## Quick start'))
  const m = /```js\n([\s\S]*?)```/.exec(section)
  assert.ok(m, `no js code block under "## Quick start" in ${readme}`)
  const code = m[1]
  assert.match(code, /express\(\)/, 'the Quick start never creates the Express app: it fails as pasted')
  assert.match(code, /\.listen\(/, 'the Quick start never listens: it does nothing as pasted')
  fs.writeFileSync(path.join(app, 'server.js'), code)
}

async function startServer(app, env) {
  const child = spawn(process.execPath, ['server.js'], { cwd: app, env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Quick start server printed no port within 30 s: ${out}`)), 30_000)
    child.stdout.on('data', (d) => {
      out += d
      const p = /localhost:(\d+)/.exec(out)
      if (p) { clearTimeout(timer); resolve(Number(p[1])) }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the Quick start server exited with ${code}: ${out}`)) })
  })
  return { child, port }
}

async function main() {
  // --prebuilt: test the tarballs already in dist/ (CI's per-target test job, which has no Rust).
  if (!process.argv.includes('--prebuilt')) {
    // The release build replaces the clone's addon with one lacking the test kernels; put the
    // development build back once packed, so what runs after this (the benchmarks in CI, which
    // use offload/testing) still has them.
    const addon = path.join(root, 'napi', `offload.${suffix}.node`)
    const dev = fs.existsSync(addon) ? fs.readFileSync(addon) : undefined
    try {
      execFileSync('npm', ['run', 'package'], { cwd: root, stdio: 'inherit' })
    } finally {
      if (dev) {
        fs.writeFileSync(`${addon}.dev`, dev)
        fs.renameSync(`${addon}.dev`, addon)
      }
    }
  }
  const dist = path.join(root, 'dist')
  const mainTgz = path.join(dist, `${pkg.name}-${pkg.version}.tgz`)
  const platformTgz = path.join(dist, `${platformPkg}-${pkg.version}.tgz`)
  for (const f of [mainTgz, platformTgz]) console.log(`${path.relative(root, f)}: ${fs.statSync(f).size} bytes`)
  const mainFiles = execFileSync('tar', ['-tzf', mainTgz], { encoding: 'utf8' })
  assert.doesNotMatch(mainFiles, /\.node$/m, 'the main tarball ships no binary')
  assert.match(mainFiles, /^package\/LICENSE$/m, 'the main tarball ships the LICENSE')
  const mainPkg = JSON.parse(execFileSync('tar', ['-xzOf', mainTgz, 'package/package.json'], { encoding: 'utf8' }))
  assert.deepEqual(mainPkg.optionalDependencies, { [platformPkg]: pkg.version }, 'the main package depends on the platform package')
  const platPkg = JSON.parse(execFileSync('tar', ['-xzOf', platformTgz, 'package/package.json'], { encoding: 'utf8' }))
  assert.deepEqual([platPkg.name, platPkg.version, platPkg.os, platPkg.cpu, platPkg.main],
    [platformPkg, pkg.version, ['linux'], [process.arch], `offload.${suffix}.node`])
  assert.deepEqual(execFileSync('tar', ['-tzf', platformTgz], { encoding: 'utf8' }).trim().split('\n').sort(),
    ['package/LICENSE', `package/offload.${suffix}.node`, 'package/package.json'])

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-install-'))
  const env = userEnv()
  try {
    // 1. Both tarballs, no Rust: seconds, no build, no residue.
    const app = newApp(tmp, 'app')
    const t0 = process.hrtime.bigint()
    execFileSync('npm', ['install', '--no-audit', '--no-fund', mainTgz, platformTgz], { cwd: app, env, stdio: 'inherit' })
    const installMs = Number(process.hrtime.bigint() - t0) / 1e6
    console.log(`install of both tarballs: ${(installMs / 1000).toFixed(2)} s (target ≤ 15 s)`)
    // 60 s, not the 15 s target: a slow CI disk must not turn this red; a build takes 60-90 s.
    assert.ok(installMs < 60_000, `install took ${installMs} ms`)
    const nm = path.join(app, 'node_modules')
    assert.deepEqual(findDirs(nm, 'target'), [], 'no target/ under node_modules')
    assert.deepEqual(fs.readdirSync(path.join(nm, 'offload', 'napi')).filter((f) => f.endsWith('.node')), [],
      'the binary comes from the platform package, not a build inside offload/')
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'))
    assert.match(lock.packages[`node_modules/${platformPkg}`].resolved, /^file:/, 'npm took the platform package from the tarball')
    const size = dirSize(nm)
    console.log(`node_modules: ${(size / 2 ** 20).toFixed(1)} MiB (limit 20 MB)`)
    assert.ok(size <= 20e6, `node_modules is ${size} bytes`)

    // 2. require('offload') in a fresh process; the best of 5 is the cost without machine load.
    const times = []
    for (let i = 0; i < 5; i++) {
      const out = execFileSync(process.execPath, ['-e',
        "const t = process.hrtime.bigint(); require('offload'); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6))"],
      { cwd: app, env, encoding: 'utf8' })
      times.push(Number(out))
    }
    console.log(`require('offload'): ${times.map((t) => t.toFixed(1)).join(', ')} ms (best ${Math.min(...times).toFixed(1)}, limit 50 ms)`)
    assert.ok(Math.min(...times) <= 50, `require('offload') took at best ${Math.min(...times)} ms`)

    // 3. The Quick start as pasted, with the README's three curl requests.
    // Express comes from the clone's node_modules (a symlink: no registry download in the test);
    // Node resolves its dependencies from its real path there.
    fs.symlinkSync(path.join(root, 'node_modules', 'express'), path.join(nm, 'express'), 'dir')
    quickStart(app)
    const { child, port } = await startServer(app, env)
    try {
      const bytes = crypto.randomBytes(300_000)
      const sha = (b) => crypto.createHash('sha256').update(b).digest('hex')
      const octet = await request(port, bytes, { 'content-type': 'application/octet-stream' })
      assert.equal(octet.status, 200, octet.body)
      assert.equal(JSON.parse(octet.body).digest, sha(bytes))
      // curl --data-binary without -H: application/x-www-form-urlencoded; and a text/plain body.
      for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
        const text = `hello from ${type}\n`
        const r = await request(port, text, { 'content-type': type })
        assert.equal(r.status, 200, `${type}: ${r.body}`)
        assert.equal(JSON.parse(r.body).digest, sha(text), type)
      }
      // An empty body: the README's 400 with a JSON answer, never a 500 page.
      const empty = await request(port, '', {})
      assert.match(empty.type, /json/, `empty body: ${empty.status} ${empty.body}`)
      assert.equal(empty.status, 400, empty.body)
      console.log('quick start: octet-stream, urlencoded and text/plain bodies hashed right; empty body answered', empty.status)
    } finally {
      child.kill()
    }

    // 4. A Python worker, with only `command: 'python3'` and `from offload_worker import serve`.
    fs.writeFileSync(path.join(app, 'worker.py'), [
      'import hashlib',
      'from offload_worker import serve',
      '',
      'def sha(payload, ctx):',
      '    return hashlib.sha256(payload).hexdigest()',
      '',
      'serve({"sha": sha})',
      '',
    ].join('\n'))
    fs.writeFileSync(path.join(app, 'pool.js'), [
      "const { ProcessPool } = require('offload')",
      "const pool = new ProcessPool({ command: 'python3', args: ['worker.py'], size: 1 })",
      "pool.run(Buffer.from('from python'), { name: 'sha', timeout: 30000 })",
      '  .then((r) => { console.log(r); return pool.close() }, (e) => { console.error(e); process.exitCode = 1; return pool.destroy() })',
      '',
    ].join('\n'))
    // No PYTHONPATH: the pool puts the package's python/ directory on it for python commands.
    const pyEnv = { ...env }
    delete pyEnv.PYTHONPATH
    const py = spawnSync(process.execPath, ['pool.js'], { cwd: app, env: pyEnv, encoding: 'utf8', timeout: 60_000 })
    assert.equal(py.status, 0, py.stderr)
    assert.equal(py.stdout.trim(), crypto.createHash('sha256').update('from python').digest('hex'))
    console.log('python worker: sha256 from python3 matches node:crypto')

    // 5. The main tarball alone, no Rust: the install fails with one clear line. --omit=optional
    // keeps npm from taking a published platform package from the registry instead.
    const bare = newApp(tmp, 'bare')
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', mainTgz], { cwd: bare, env, encoding: 'utf8' })
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, /building from source needs the Rust toolchain \(cargo\), which is not on PATH/)
    console.log('main tarball alone without cargo: fails with the one-line hint')

    // 6. The main tarball alone with Rust: the install hook builds from source in a temporary
    // directory it removes afterwards, and the package then works from CommonJS and ESM. A cold
    // release build (about 1.5 min on 2 cores), so the real path is taken: no CARGO_TARGET_DIR.
    const src = newApp(tmp, 'source')
    const rustEnv = { ...process.env }
    for (const k of Object.keys(rustEnv)) if (/^npm_|^CARGO_TARGET_DIR$/i.test(k)) delete rustEnv[k]
    const buildTmp = fs.mkdtempSync(path.join(tmp, 'tmpdir-'))
    rustEnv.TMPDIR = buildTmp // where the hook's temporary target directory goes, to check it is gone
    const buildStart = Date.now()
    const built = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', mainTgz], { cwd: src, env: rustEnv, encoding: 'utf8' })
    assert.equal(built.status, 0, built.stderr)
    console.log(`main tarball alone with cargo: built from source in ${((Date.now() - buildStart) / 1000).toFixed(1)} s`)
    const installed = path.join(src, 'node_modules', 'offload')
    assert.deepEqual(findDirs(installed, 'target'), [], 'the source build leaves no target/ in the package')
    assert.deepEqual(fs.readdirSync(buildTmp), [], 'the temporary build directory is removed')
    assert.ok(fs.readdirSync(path.join(installed, 'napi')).some((f) => f.endsWith('.node')), 'the build produced the addon')
    const expected = crypto.createHash('sha256').update('packed').digest('hex')
    const cjs = execFileSync(process.execPath, ['-e', "require('offload').hash('sha256','packed',{encoding:'hex'}).then(console.log)"], { cwd: src, encoding: 'utf8' })
    assert.equal(cjs.trim(), expected)
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { hash } from 'offload'; console.log(await hash('sha256','packed',{encoding:'hex'}))"], { cwd: src, encoding: 'utf8' })
    assert.equal(esm.trim(), expected)
    console.log('source build: works from CommonJS and ESM, no target/ left behind')
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log('install test: ok')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
