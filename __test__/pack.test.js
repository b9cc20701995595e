'use strict'
// Installing the packed tarball into an empty project builds the addon from source with cargo
// (the clone's package.json names no platform package, so no prebuilt binary arrives) and the
// package then works from CommonJS and ESM.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const root = path.join(__dirname, '..')

test('npm pack + npm install builds from source and works', { timeout: 5 * 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-pack-'))
  try {
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()
    const files = execFileSync('tar', ['-tzf', path.join(dir, tarball)], { encoding: 'utf8' })
    assert.ok(!/\.node$/m.test(files), 'the tarball ships no prebuilt binary')
    const app = path.join(dir, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}')
    // Seed a private target dir with the clone's release build so registry dependencies are
    // reused; the offload crate itself has a new source path and is compiled afresh.
    const env = { ...process.env, CARGO_TARGET_DIR: path.join(dir, 'target'), npm_config_loglevel: 'error' }
    if (fs.existsSync(path.join(root, 'target', 'release'))) {
      fs.cpSync(path.join(root, 'target', 'release'), path.join(dir, 'target', 'release'), { recursive: true })
    }
    execFileSync('npm', ['install', '--no-audit', '--no-fund', path.join(dir, tarball)], { cwd: app, env, stdio: 'inherit' })
    const installed = path.join(app, 'node_modules', 'offload')
    assert.ok(fs.readdirSync(installed).some((f) => f.endsWith('.node')), 'the install step produced the addon')
    assert.ok(!fs.existsSync(path.join(installed, 'target')), 'the build leaves no target/ inside the package')
    const expected = crypto.createHash('sha256').update('packed').digest('hex')
    const cjs = execFileSync(process.execPath, ['-e', "require('offload').hash('sha256','packed',{encoding:'hex'}).then(console.log)"], { cwd: app, encoding: 'utf8' })
    assert.equal(cjs.trim(), expected)
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { hash } from 'offload'; console.log(await hash('sha256','packed',{encoding:'hex'}))"], { cwd: app, encoding: 'utf8' })
    assert.equal(esm.trim(), expected)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
