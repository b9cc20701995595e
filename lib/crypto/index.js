'use strict'
// Passwords and encryption on the CPU pool (issue 16): password hashing and verification in
// passwords.js, key derivation and authenticated encryption in cipher.js.
const { hashPassword, verifyPassword, needsRehash } = require('./passwords')
const { scrypt, pbkdf2, hkdf, encrypt, decrypt } = require('./cipher')

module.exports = { hashPassword, verifyPassword, needsRehash, scrypt, pbkdf2, hkdf, encrypt, decrypt }
