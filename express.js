'use strict'
// offload/express: see lib/express.js.
module.exports = require('./lib/express')
