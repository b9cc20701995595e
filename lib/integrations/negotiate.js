'use strict'
// The header logic of compression(), pure functions of header values: Accept-Encoding
// negotiation with q-values (RFC 9110 12.5.3), Vary merging, Cache-Control no-transform, the
// default content-type filter and the threshold's byte sizes. Nothing here touches a socket.
const { invalidArgType, invalidArgValue, outOfRange } = require('../shared/errors')

const Q = /^\s*q\s*=\s*(\S*)\s*$/i
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/ // RFC 9110 12.4.2

/**
 * The coding of `offered` (server preference order) the header accepts with the highest
 * q-value, ties going to the earlier in `offered`; undefined for identity. `*` stands for every
 * coding the header does not name; q=0 refuses. An explicit `identity` with a higher q than
 * every offered coding wins (the client prefers the bytes as they are). Entries with a
 * malformed q are ignored, as if absent.
 */
function negotiate(header, offered) {
  const weights = new Map()
  for (const entry of String(header).split(',')) {
    const [token, ...params] = entry.split(';')
    const name = token.trim().toLowerCase()
    if (name === '' || weights.has(name)) continue
    let q = 1
    for (const p of params) {
      const m = Q.exec(p)
      if (m !== null) q = QVALUE.test(m[1]) ? Number(m[1]) : NaN
    }
    if (q >= 0 && q <= 1) weights.set(name, q)
  }
  const star = weights.get('*') ?? 0
  let best
  let bestQ = 0
  for (const coding of offered) {
    const q = weights.get(coding) ?? star
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  const identity = weights.get('identity')
  return best !== undefined && identity !== undefined && identity > bestQ ? undefined : best
}

function headerText(value) {
  return Array.isArray(value) ? value.join(', ') : value === undefined ? undefined : String(value)
}

/** Adds Accept-Encoding to the response's Vary unless it (or `*`) is listed already. */
function addVary(res) {
  const vary = headerText(res.getHeader('Vary'))
  if (vary === undefined || vary.trim() === '') {
    res.setHeader('Vary', 'Accept-Encoding')
    return
  }
  const names = vary.split(',').map((n) => n.trim().toLowerCase())
  if (!names.includes('*') && !names.includes('accept-encoding')) res.setHeader('Vary', `${vary}, Accept-Encoding`)
}

/** Whether Cache-Control forbids transforming the body (RFC 9111 5.2.2.6; directives are case-insensitive). */
function noTransform(res) {
  const cc = headerText(res.getHeader('Cache-Control'))
  return cc !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cc)
}

// What the `compressible` package (which `compression` uses) answers, without mime-db: the
// types mime-db marks compressible that the pattern below misses (mime-db 1.54), then every
// text/* type and every +json, +text and +xml suffix. mime-db marks none of those incompressible.
const COMPRESSIBLE = new Set([
  'application/dart', 'application/ecmascript', 'application/javascript', 'application/json',
  'application/octet-stream', 'application/postscript', 'application/raml+yaml', 'application/rtf',
  'application/tar', 'application/toml', 'application/vnd.dart', 'application/vnd.ms-fontobject',
  'application/vnd.ms-opentype', 'application/wasm', 'application/x-httpd-php', 'application/x-javascript',
  'application/x-ns-proxy-autoconfig', 'application/x-sh', 'application/x-tar', 'application/x-virtualbox-hdd',
  'application/x-virtualbox-ova', 'application/x-virtualbox-ovf', 'application/x-virtualbox-vbox',
  'application/x-virtualbox-vdi', 'application/x-virtualbox-vhd', 'application/x-virtualbox-vmdk',
  'application/x-www-form-urlencoded', 'application/xml', 'application/xml-dtd', 'font/otf', 'font/ttf',
  'image/bmp', 'image/vnd.adobe.photoshop', 'image/vnd.microsoft.icon', 'image/vnd.ms-dds', 'image/x-icon',
  'image/x-ms-bmp', 'message/rfc822', 'model/gltf-binary', 'x-shader/x-fragment', 'x-shader/x-vertex',
])
const COMPRESSIBLE_PATTERN = /^text\/|\+(?:json|text|xml)$/

/** The default filter: the response's Content-Type is one worth compressing. */
function compressible(req, res) {
  const type = headerText(res.getHeader('Content-Type'))
  if (type === undefined) return false
  const mime = /^\s*([^;\s]*)/.exec(type)[1].toLowerCase()
  return COMPRESSIBLE.has(mime) || COMPRESSIBLE_PATTERN.test(mime)
}

const UNITS = { b: 1, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, tb: 2 ** 40, pb: 2 ** 50 }

/** `threshold` as bytes: a number, or a string as the `bytes` package reads it ('1kb', '1.5mb'). */
function parseThreshold(value) {
  if (value === undefined) return 1024
  if (typeof value === 'number') {
    if (!(value >= 0)) throw outOfRange('options.threshold', '>= 0', value)
    return value
  }
  if (typeof value !== 'string') throw invalidArgType('options.threshold', 'of type number or string', value)
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|pb)?\s*$/i.exec(value)
  if (m === null) throw invalidArgValue('options.threshold', value, "must be a number of bytes or a size such as '1kb'")
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()])
}

module.exports = { negotiate, addVary, noTransform, compressible, parseThreshold }
