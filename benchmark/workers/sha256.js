'use strict'
// Piscina sha256 task. The 1 MiB input arrives as a structured-clone copy,
// which is what a typical caller pays (transferring would detach its buffer).
const { createHash } = require('node:crypto')
module.exports = function sha256 (data) {
  return createHash('sha256').update(data).digest()
}
