'use strict'
// piscina worker for the threadpool scenario: the shared handlers as named
// exports, picked per task with run(payload, { name }).
module.exports = require('./tp-handlers')
