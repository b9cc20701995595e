'use strict'
// tinypool worker for the threadpool scenario: the shared handlers as named
// exports, picked per task with run(payload, { name }) (piscina's API).
module.exports = require('./tp-handlers')
