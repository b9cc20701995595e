'use strict'
// Deterministic, realistic-looking access-log text. Real logs compress ~5-10x;
// random bytes (incompressible) or one repeated line (trivial) would both
// misrepresent gzip's cost.

const { prng } = require('./lib')

const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR']
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']
const PATHS = ['/api/users/', '/api/orders/', '/api/items/', '/static/js/app.', '/health', '/api/search?q=']
const STATUS = [200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500]
const UAS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'curl/8.5.0',
  'okhttp/4.12.0'
]

function logText (bytes, seed = 42) {
  const rnd = prng(seed)
  const pickOf = (a) => a[Math.floor(rnd() * a.length)]
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('')
  let t = Date.UTC(2026, 10, 22, 10, 0, 0)
  const lines = []
  let size = 0
  while (size < bytes) {
    t += Math.floor(rnd() * 50)
    const p = pickOf(PATHS)
    const tail = p.endsWith('.') ? hex(8) + '.js' : p.endsWith('=') ? hex(4) : p.endsWith('/') ? String(Math.floor(rnd() * 10000)) : ''
    const line = `${new Date(t).toISOString()} ${pickOf(LEVELS)} req_id=${hex(6)} method=${pickOf(METHODS)} path=${p}${tail} status=${pickOf(STATUS)} dur_ms=${Math.floor(rnd() * rnd() * 500)} ua="${pickOf(UAS)}"\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

module.exports = { logText }
