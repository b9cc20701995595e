'use strict'
// offload ThreadPool worker for the threadpool scenario, written against issue
// 14's contract: the same serve({ name: handler }) from offload/worker that a
// ProcessPool runs. Unused until require('offload').ThreadPool exists.
require('offload/worker').serve(require('./tp-handlers'))
