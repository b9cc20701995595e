'use strict'
// Runs in the ProcessPool's worker processes (see server.js): plain JavaScript, isolated from
// the web server's heap.
const { serve } = require('offload/worker')

serve({
  // The ten most frequent words of an uploaded text.
  words(text) {
    const counts = new Map()
    for (const word of Buffer.from(text).toString('utf8').toLowerCase().match(/[\p{L}']+/gu) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1)
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10)
    return { distinct: counts.size, top: Object.fromEntries(top) }
  },
})
