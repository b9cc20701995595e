'use strict'
// offload ThreadPool worker for the threadpool scenario: the same
// serve({ name: handler }) from offload/worker that a ProcessPool runs.
require('offload/worker').serve(require('./tp-handlers'))
