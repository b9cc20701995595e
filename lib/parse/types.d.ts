// Typings for the parsers (lib/parse): parseCsv, parseNdjson, parseJson. Re-exported by the
// package's index.d.ts. Behaviour and costs: docs/parsing.md.
import type { TaskOptions } from '../cpu/types'

// `timeout` (from TaskOptions) bounds the whole parse: once it passes, the iterator's next()
// (or parseJson's promise) rejects with ERR_OFFLOAD_TIMEOUT and the input is closed.
import type { PathLike } from '../files/types'

/**
 * Input of a parser: the bytes, the text itself (a string is never a path), a Readable or
 * async iterable of chunks (pulled only as batches are taken), or `{ path }`, read by native
 * code on the pool.
 */
export type ParseSource =
  | Uint8Array
  | string
  | NodeJS.ReadableStream
  | AsyncIterable<Uint8Array | string>
  | { path: PathLike }

/** Options shared by `parseCsv` and `parseNdjson`. */
export interface ParseOptions extends TaskOptions {
  /** A batch ends after this many rows. Default: unset (`batchBytes` decides). */
  batchRows?: number
  /** A batch ends at the first row end after this many bytes of input. Default: 32 KiB, or no limit when `batchRows` is given. */
  batchBytes?: number
  /** A longer row (or line) is an `ERR_OFFLOAD_PARSE` error. Default: 64 MiB. */
  maxRowBytes?: number
  /** `'utf8'` (invalid UTF-8 is an `ERR_OFFLOAD_PARSE` error, never replaced) or `'latin1'`. Default: `'utf8'`. */
  encoding?: 'utf8' | 'latin1'
  /** `'throw'`: stop at the first bad row; `'skip'`: skip bad rows, counted in `stats.skipped`. Default: `'throw'`. */
  onError?: 'throw' | 'skip'
  /** Strip a leading UTF-8 byte order mark. Default: `true`. */
  bom?: boolean
}

/** What a CSV column's fields become under a `cast` map. */
export type CsvCast = 'string' | 'number' | 'boolean' | 'date'

/** Options of `parseCsv`. */
export interface CsvOptions extends ParseOptions {
  /** `true`: the first row names the columns; or the names. Default: `false` (rows are arrays). */
  columns?: boolean | string[]
  /** One ASCII character. Default: `','`. */
  delimiter?: string
  /** One ASCII character, or `false` for no quoting. Default: `'"'`. */
  quote?: string | false
  /** One ASCII character escaping the quote (and itself) inside quotes. Default: the quote (doubled quotes). */
  escape?: string
  /** One ASCII character: lines starting with it are skipped. Default: none. */
  comment?: string
  /** Skip empty lines (else an empty line is a row of one empty field). Default: `false`. */
  skipEmptyLines?: boolean
  /** Accept rows whose field count differs from the columns (missing fields are left out, extra ones dropped). Default: `false`. */
  relaxColumnCount?: boolean
  /**
   * `true`: decimal numbers become numbers and `true`/`false` booleans, anything else stays a
   * string; or a map from column name (index, without names) to what its fields become
   * (`'number'`, `'boolean'`: empty → null, anything else an error; `'date'`: ISO 8601 → Date).
   * Default: `false` (strings).
   */
  cast?: boolean | Record<string, CsvCast>
  /**
   * `'objects'` (needs `columns`), `'arrays'`, or `'columns'`: each batch one object of columns,
   * `Float64Array` for columns cast `'number'` (empty → NaN), arrays for the others.
   * Default: `'objects'` with `columns`, else `'arrays'`.
   */
  shape?: 'objects' | 'arrays' | 'columns'
}

/** Options of `parseJson`. */
export interface JsonOptions extends TaskOptions {
  /** A longer document is an `ERR_OFFLOAD_PARSE` error. Default: 1 GiB. */
  maxBytes?: number
  /** `'utf8'` or `'latin1'`. Default: `'utf8'`. */
  encoding?: 'utf8' | 'latin1'
  /** Strip a leading UTF-8 byte order mark. Default: `true`. */
  bom?: boolean
}

/** Counts of a parse so far. */
export interface ParseStats {
  /** Rows (values) delivered in batches. */
  rows: number
  /** Bad rows skipped (`onError: 'skip'`). */
  skipped: number
  /** Input bytes consumed. */
  bytes: number
}

/** Batches of a parse: iterate once with `for await`; `break` stops reading and closes the input. */
export interface ParseStream<T> extends AsyncIterable<T> {
  readonly stats: ParseStats
}

/** A CSV row: an object keyed by column name, or an array. */
export type CsvRow = Record<string, unknown> | unknown[]

/**
 * Parses CSV (RFC 4180) on the CPU pool into batches of rows. Malformed input throws
 * `ERR_OFFLOAD_PARSE` (with `line`, `column`, `offset`) from the iterator, after the batch of
 * the rows before it.
 */
export declare function parseCsv(source: ParseSource, options: CsvOptions & { shape: 'columns' }): ParseStream<Record<string, Float64Array | unknown[]>>
export declare function parseCsv(source: ParseSource, options: CsvOptions & { columns: true | string[], shape?: 'objects' }): ParseStream<Record<string, unknown>[]>
export declare function parseCsv(source: ParseSource, options?: CsvOptions): ParseStream<CsvRow[]>

/** Parses NDJSON (one JSON value per non-blank line) on the CPU pool into batches of values, with `JSON.parse`'s semantics. */
export declare function parseNdjson(source: ParseSource, options?: ParseOptions): ParseStream<unknown[]>

/** Parses one JSON document on the CPU pool; the value is built on the JS thread in slices of about a millisecond. */
export declare function parseJson(source: ParseSource, options?: JsonOptions): Promise<unknown>
