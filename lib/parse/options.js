'use strict'
// Option checks of parseCsv, parseNdjson and parseJson: types here, with Node's wording
// (ERR_INVALID_ARG_TYPE); values (ranges, characters, names) by the binding. The binding gets a
// fresh object of values read once: `columns` as `header`/`names`, `quote: false` as `unquoted`,
// `cast` as `castAll` and `[column, kind]` pairs.
const { invalidArgType } = require('../shared/errors')
const { optionalString, optionalBoolean, optionalNumber, pick } = require('../shared/validate')

const COMMON = [['batchRows', optionalNumber], ['batchBytes', optionalNumber], ['maxRowBytes', optionalNumber],
  ['encoding', optionalString], ['onError', optionalString], ['bom', optionalBoolean]]
const CSV = [['delimiter', optionalString], ['escape', optionalString], ['comment', optionalString],
  ['skipEmptyLines', optionalBoolean], ['relaxColumnCount', optionalBoolean], ['shape', optionalString]]

/** The binding's options for `format` from the caller's `opts` (already an object). */
function parseOptions(format, opts) {
  /** @type {Record<string, unknown>} */
  const o = pick(opts, COMMON)
  if (format !== 'csv') return o
  pick(opts, CSV, o)
  const columns = opts.columns
  if (columns === true) o.header = true
  else if (Array.isArray(columns)) {
    o.names = columns.map((c, i) => {
      if (typeof c !== 'string') throw invalidArgType(`options.columns[${i}]`, 'of type string', c)
      return c
    })
  } else if (columns !== undefined && columns !== false) {
    throw invalidArgType('options.columns', 'of type boolean or an instance of Array', columns)
  }
  const quote = opts.quote
  if (quote === false) o.unquoted = true
  else if (quote !== undefined) o.quote = optionalString(opts, 'quote')
  const cast = opts.cast
  if (cast === true) o.castAll = true
  else if (cast !== null && typeof cast === 'object' && !Array.isArray(cast)) {
    o.cast = Object.keys(cast).map((k) => {
      const kind = cast[k]
      if (typeof kind !== 'string') throw invalidArgType(`options.cast.${k}`, 'of type string', kind)
      return [k, kind]
    })
  } else if (cast !== undefined && cast !== false) {
    throw invalidArgType('options.cast', 'of type boolean or object', cast)
  }
  return o
}

module.exports = { parseOptions }
