'use strict'
// Piscina/tinypool no-op task: measures pure dispatch + settle overhead.
module.exports = function noop () {}
