'use strict'
// The entry point of every ThreadPool worker thread: loads the user's module (CommonJS or ESM,
// through import()), which calls serve() from offload/worker. A module that fails to load
// ends the thread with its error, which the pool reports as ERR_OFFLOAD_WORKER_START.
const { pathToFileURL } = require('node:url')
const { threadPoolOf } = require('./handshake')

import(pathToFileURL(threadPoolOf().script).href)
