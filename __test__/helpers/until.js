'use strict'
// Polling for a condition the tests cannot await directly (a counter kept by a pool thread,
// a process state), with a deadline so a wrong expectation fails instead of hanging.
const { setTimeout: sleep } = require('node:timers/promises')

async function until(check, what = String(check), ms = 10_000) {
  for (const end = Date.now() + ms; !check(); await sleep(10)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
  }
}

// Settles as `promise` does, or rejects if it has not settled within `ms`. For cancellation
// checks: a task whose kernel ignored its cancel flag would otherwise settle only when its
// work ends (a 60 s spin), so broken cancellation would pass, slowly, instead of failing.
async function within(promise, ms, what) {
  let timer
  const deadline = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

module.exports = { until, within }
