'use strict'
// Disposal helpers shared by every class with a close(): `Symbol.asyncDispose` where the
// runtime has it (Node 20.4+ with `using` support), else the well-known registered symbol Node
// and TypeScript fall back to, so `await using pool = new Pool()` works on every Node 20.
const asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')

module.exports = { asyncDispose }
