'use strict'
// The one place that loads the native addon. The generated loader (napi/binding.js) tries
// `./offload.<platform>.node`, then the platform package, then WASI packages offload does not
// publish, and its error blames an npm bug. When nothing loads, this says what was looked for,
// why each failed, and how to fix it.
const path = require('node:path')
const { platformSuffix } = require('./platform')
const { ERR_OFFLOAD_NATIVE_LOAD } = require('./codes')

// Why `require(id)` fails, in one line: `absent` when the module is not there, else the
// loader's own message (a dlopen error, an ABI mismatch, ...).
function reason(id, absent) {
  try {
    require(id)
    return 'loads now (it failed while binding.js loaded it)'
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(id)) return absent
    return String(err && err.message).split('\n')[0]
  }
}

function loadError(cause) {
  const suffix = platformSuffix()
  const pkg = `offload-${suffix}`
  const file = path.join(__dirname, '..', '..', 'napi', `offload.${suffix}.node`)
  const err = /** @type {Error & { code?: string }} */ (new Error(
    `offload: no native binary loads on ${suffix} (Node ${process.version}).\n` +
    `  platform package ${pkg}: ${reason(pkg, 'not installed')}\n` +
    `  local build ${file}: ${reason(file, 'not built')}\n` +
    `Fix: install the prebuilt binary (\`npm install ${pkg}\`, or reinstall offload without --ignore-scripts/--omit=optional), ` +
    'or build it from source with the Rust toolchain installed (https://rustup.rs): `npm rebuild offload`.'
  ))
  err.code = ERR_OFFLOAD_NATIVE_LOAD
  err.cause = cause
  return err
}

let binding
try {
  binding = require('../../napi/binding.js')
} catch (err) {
  throw loadError(err)
}

module.exports = binding
