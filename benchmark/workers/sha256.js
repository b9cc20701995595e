'use strict'
// Piscina sha256 task. A plain Buffer input arrives as a structured-clone copy,
// which is what a typical caller pays (transferring would detach its buffer);
// one backed by a SharedArrayBuffer arrives as a view of the same memory (the
// "piscina (shared)" row, piscina's advice for large inputs).
// `priority`: the worker thread's niceness, checked by contestants.js.
const os = require('node:os')
const { createHash } = require('node:crypto')
module.exports = function sha256 (data) {
  return createHash('sha256').update(data).digest()
}
module.exports.priority = () => os.getPriority()
