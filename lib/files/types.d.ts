// Typings for the file kernels (lib/files): hashFile, hmacFile, compressFile, decompressFile,
// encryptFile, decryptFile.
// Option docs for `level`, `maxOutputLength` and `fsync` are generated from the Rust sources
// into napi/binding.d.ts. Re-exported by the package's index.d.ts.
import type {
  CipherAlgorithm,
  CipherFileOptions as NativeCipherFileOptions,
  CompressFileOptions as NativeCompressFileOptions,
  CompressionFormat,
  DecompressFileOptions as NativeDecompressFileOptions,
  Encoding,
  HashAlgorithm,
  HmacAlgorithm,
} from '../../napi/binding'
import type { TaskOptions } from '../cpu/types'
import type { BinaryLike } from '../shared/types'

/** A path as node:fs takes it; relative paths are resolved when the function is called. */
export type PathLike = string | Buffer | URL

/** Options of `hashFile` and `hmacFile`. */
export interface HashFileOptions extends TaskOptions {
  /** Output encoding. Default: `'buffer'`. */
  encoding?: Encoding
}
/** Options of `compressFile`: the task options, `level` and `fsync`. */
export interface CompressFileOptions extends TaskOptions, NativeCompressFileOptions {}
/** Options of `decompressFile`: the task options, `maxOutputLength` and `fsync`. */
export interface DecompressFileOptions extends TaskOptions, NativeDecompressFileOptions {}

/** What `compressFile` and `decompressFile` moved. */
export interface FileTransfer {
  /** Size of `src`, in bytes. */
  bytesRead: number
  /** Size of the new `dest`, in bytes. */
  bytesWritten: number
}

type FileDigest<O> = O extends { encoding: 'hex' | 'base64' | 'base64url' } ? string : Buffer

/** Digest of the file at `path`, read on the pool in constant memory. Rejects with node:fs-style errors (`ENOENT`, `EACCES`, `EISDIR`: `code`, `errno`, `syscall`, `path`). */
export declare function hashFile<O extends HashFileOptions = {}>(algorithm: HashAlgorithm, path: PathLike, options?: O): Promise<FileDigest<O>>
/** HMAC of the file at `path` under `key`. */
export declare function hmacFile<O extends HashFileOptions = {}>(algorithm: HmacAlgorithm, key: BinaryLike, path: PathLike, options?: O): Promise<FileDigest<O>>
/** Compresses `src` into `dest`, written to a temporary file and renamed over `dest` on success; on failure `dest` is left as it was. */
export declare function compressFile(format: CompressionFormat, src: PathLike, dest: PathLike, options?: CompressFileOptions): Promise<FileTransfer>
/** Decompresses `src` into `dest` as `compressFile` writes; rejects with `ERR_OFFLOAD_CORRUPT_INPUT` or `ERR_OFFLOAD_OUTPUT_TOO_LARGE` (no `dest`). `'lz4'` is refused. */
export declare function decompressFile(format: CompressionFormat, src: PathLike, dest: PathLike, options?: DecompressFileOptions): Promise<FileTransfer>
/** Options of `encryptFile` and `decryptFile`: the task options and `fsync`. */
export interface CipherFileOptions extends TaskOptions, NativeCipherFileOptions {}
/** Encrypts `src` into `dest` in the offload STREAM format (docs/encryption.md): a random per-file salt, a per-file key derived from `key`, 64 KiB segments each authenticated, so truncation, reordering and tampering are detected. `key` is 32 bytes (16 for `'aes-128-gcm'`); a wrong length rejects with `ERR_CRYPTO_INVALID_KEYLEN`. `dest` is replaced whole, or left as it was on failure. */
export declare function encryptFile(algorithm: CipherAlgorithm, key: BinaryLike, src: PathLike, dest: PathLike, options?: CipherFileOptions): Promise<FileTransfer>
/** Decrypts a file `encryptFile` wrote. `dest` appears only once every segment, the last included, verified: a damaged or truncated file, or a wrong key, rejects with `ERR_OFFLOAD_AUTH_FAILED` and leaves no `dest`; a file that is not in the format rejects with `ERR_OFFLOAD_CORRUPT_INPUT`. */
export declare function decryptFile(algorithm: CipherAlgorithm, key: BinaryLike, src: PathLike, dest: PathLike, options?: CipherFileOptions): Promise<FileTransfer>
