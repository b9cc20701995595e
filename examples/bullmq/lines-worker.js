'use strict'
// A ProcessPool worker for worker.js: user code isolated in its own process. Counts newlines.
const { serve } = require('offload/worker')

serve((data) => {
  let n = 0
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++
  return n
})
