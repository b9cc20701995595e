'use strict'
// Piscina/tinypool no-op task: measures pure dispatch + settle overhead.
// `priority`: the worker thread's niceness, checked by contestants.js.
const os = require('node:os')
module.exports = function noop () {}
module.exports.priority = () => os.getPriority()
