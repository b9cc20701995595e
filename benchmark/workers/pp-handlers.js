'use strict'
// Task handlers shared by the processpool scenario's worker scripts (one per
// contestant), so every contestant runs exactly the same code in its workers.
const { createHash } = require('node:crypto')

// What a Buffer becomes on each wire: offload carries it as raw bytes (a
// Buffer again); Node's 'advanced' IPC as a Uint8Array or Buffer; 'json' IPC
// (workerpool's default for process workers, plain fork) as
// { type: 'Buffer', data: [...] }.
function toBuffer (x) {
  if (Buffer.isBuffer(x)) return x
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength)
  if (x && x.type === 'Buffer' && Array.isArray(x.data)) return Buffer.from(x.data)
  throw new TypeError(`sha256: not a buffer: ${typeof x}`)
}

module.exports = {
  echo: (x) => x,
  sha256: (buf) => createHash('sha256').update(toBuffer(buf)).digest('hex')
}
