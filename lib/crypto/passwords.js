'use strict'
// (issue 16: being built)
const pending = () => Promise.reject(new Error('not built yet'))
module.exports = { hashPassword: pending, verifyPassword: pending, needsRehash: pending }
