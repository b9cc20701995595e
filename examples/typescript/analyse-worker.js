'use strict'
// The process-pool worker of app.ts: counts the lines of an uploaded text in its own process.
const { serve } = require('offload/worker')

serve({
  lines(data) {
    let lines = 0
    let longestLine = 0
    let start = 0
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
      lines++
      longestLine = Math.max(longestLine, i - start)
      start = i + 1
    }
    if (start < data.length) {
      lines++
      longestLine = Math.max(longestLine, data.length - start)
    }
    return { bytes: data.length, lines, longestLine }
  },
})
