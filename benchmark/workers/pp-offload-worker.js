'use strict'
// offload ProcessPool worker for the processpool scenario.
require('offload/worker').serve(require('./pp-handlers'))
