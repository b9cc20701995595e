'use strict'
// workerpool ({ workerType: 'thread' }) worker for the threadpool scenario:
// the shared handlers registered as methods for pool.exec(name, [payload]).
require('workerpool').worker(require('./tp-handlers'))
