'use strict'
// workerpool ({ workerType: 'process' }) worker for the processpool scenario.
require('workerpool').worker(require('./pp-handlers'))
