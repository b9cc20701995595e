'use strict'
// A real `gc()` for tests: node:test runs each file in its own process, so turning the flag on
// at run time affects only that file.
const v8 = require('node:v8')
const vm = require('node:vm')

v8.setFlagsFromString('--expose-gc')
module.exports = { gc: vm.runInNewContext('gc') }
