'use strict'
// offload ProcessPool worker for the processpool scenario.
require('../../worker').serve(require('./pp-handlers'))
