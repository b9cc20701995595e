'use strict'
// Polling for a condition the tests cannot await directly (a counter kept by a pool thread,
// a process state), with a deadline so a wrong expectation fails instead of hanging.
const { setTimeout: sleep } = require('node:timers/promises')

async function until(check, what = String(check), ms = 10_000) {
  for (const end = Date.now() + ms; !check(); await sleep(10)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
  }
}

module.exports = { until }
