'use strict'
// The worker module of isolation.js, served alike by a ThreadPool's threads and a
// ProcessPool's processes: a no-op, the process id, a JavaScript crash and a fatal signal.
require('offload/worker').serve({
  noop () {},
  pid: () => process.pid,
  // Ends a thread (a ThreadPool replaces it) or a worker process.
  exit: () => process.exit(1),
  // What a segfault in a native addon does: a fatal signal, which ends the whole process.
  segv: () => process.kill(process.pid, 'SIGSEGV')
})
