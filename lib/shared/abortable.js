'use strict'
// `promise`, or a rejection with `reason()` as soon as `signal` aborts, whichever comes first.
// The listener is removed when either happens. (A `Promise.race` against one long-lived promise
// that never settles leaks: every race adds a reaction to it, and each reaction holds its race's
// result, so memory grows with every step of a long stream.)
function abortable(promise, signal, reason) {
  if (signal.aborted) return Promise.reject(reason())
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(reason())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then((v) => {
      signal.removeEventListener('abort', onAbort)
      resolve(v)
    }, (err) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    })
  })
}

module.exports = { abortable }
