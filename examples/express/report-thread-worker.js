'use strict'
// Runs on the ThreadPool's worker threads (see server.js): the same serve() module a
// ProcessPool runs, so moving this work into its own process is swapping the pool's class.
const { serve } = require('offload/worker')
const { salesReport } = require('./sales-report')

serve({
  sales: ({ id, rows }) => salesReport(id, rows),
})
