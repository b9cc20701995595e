'use strict'
// The napi platform suffix of this process (`linux-x64-gnu`, `linux-arm64-musl`, ...): the name
// of the local `offload.<suffix>.node` and of the `offload-<suffix>` prebuilt package. Shared by
// the loader, the install hook and the packaging scripts, so they always look for the same file.
function platformSuffix() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  const report = /** @type {any} */ (process.report && process.report.getReport())
  const glibc = report && report.header && report.header.glibcVersionRuntime
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
}

module.exports = { platformSuffix }
