'use strict'
// (issue 16: being built)
const pending = () => Promise.reject(new Error('not built yet'))
module.exports = { scrypt: pending, pbkdf2: pending, hkdf: pending, encrypt: pending, decrypt: pending }
