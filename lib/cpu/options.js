'use strict'
// Option checks for `new Pool()`: types here, with Node's wording; values (thread and queue
// bounds, niceness, the name's length) are checked by the binding. The binding gets a fresh
// object of values read once, never the caller's object.
const { validateOptions, optionalNumber, optionalString } = require('../shared/validate')

function poolOptions(options) {
  const o = validateOptions(options)
  const threads = optionalNumber(o, 'threads')
  const maxQueue = optionalNumber(o, 'maxQueue')
  const nice = optionalNumber(o, 'nice')
  return { threads, maxQueue, name: optionalString(o, 'name'), nice }
}

module.exports = { poolOptions }
