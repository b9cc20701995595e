'use strict'
// How a ThreadPool's worker thread knows it is one: the pool puts its id under this key in
// `workerData`. Kept apart from serve.js so offload/worker can ask without loading the addon
// (a process-pool worker never loads it).
const { workerData } = require('node:worker_threads')

const kThreadPool = 'offload.threadPool'

/** The pool's handshake `{ id }` when this thread was started by a ThreadPool; else undefined. */
function threadPoolOf() {
  return workerData !== null && typeof workerData === 'object' ? workerData[kThreadPool] : undefined
}

module.exports = { kThreadPool, threadPoolOf }
