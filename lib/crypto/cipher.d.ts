// Typings for key derivation and authenticated encryption (lib/crypto/cipher.js). Re-exported
// by lib/crypto/types.d.ts and the package's index.d.ts.
import type { BinaryLike } from '../shared/types'
import type { TaskOptions } from '../cpu/types'
import type { CipherAlgorithm, KdfDigest, ScryptOptions as NativeScryptOptions } from '../../napi/binding'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { CipherAlgorithm, KdfDigest }

/** scrypt's parameters under node's names (field docs in binding.d.ts) and the task options. */
export interface ScryptOptions extends TaskOptions, NativeScryptOptions {}

/**
 * scrypt (RFC 7914) on the CPU pool: the bytes of node's `crypto.scrypt` for the same arguments.
 * Parameters OpenSSL refuses (node's rules, `maxmem` included) reject with
 * `ERR_CRYPTO_INVALID_SCRYPT_PARAMS` before any work.
 */
export declare function scrypt(password: BinaryLike, salt: BinaryLike, keylen: number, options?: ScryptOptions): Promise<Buffer>

/**
 * PBKDF2-HMAC (RFC 8018) on the CPU pool: the bytes of node's `crypto.pbkdf2`. Cancellable
 * mid-derivation (abort, timeout). An unknown digest rejects with `ERR_CRYPTO_INVALID_DIGEST`.
 */
export declare function pbkdf2(password: BinaryLike, salt: BinaryLike, iterations: number, keylen: number, digest: KdfDigest | (string & {}), options?: TaskOptions): Promise<Buffer>

/**
 * HKDF (RFC 5869) on the CPU pool: the bytes of node's `crypto.hkdf`, as a Buffer (node gives an
 * ArrayBuffer). At most 255 digests long (`ERR_CRYPTO_INVALID_KEYLEN`), `info` at most 1024 bytes.
 */
export declare function hkdf(digest: KdfDigest | (string & {}), ikm: BinaryLike, salt: BinaryLike, info: BinaryLike, keylen: number, options?: TaskOptions): Promise<Buffer>

/** A sealed message: what `encrypt` gives and `decrypt` takes. */
export interface Encrypted {
  /** The 12-byte IV (nonce): the one given, or a fresh one from the OS. */
  iv: Buffer
  /** As long as the plaintext. */
  ciphertext: Buffer
  /** The 16-byte authentication tag. */
  authTag: Buffer
}

/** What `decrypt` takes: any binary views of the three parts. */
export interface EncryptedInput {
  iv: ArrayBufferView | ArrayBuffer | SharedArrayBuffer
  ciphertext: ArrayBufferView | ArrayBuffer | SharedArrayBuffer
  authTag: ArrayBufferView | ArrayBuffer | SharedArrayBuffer
}

/** Options of `encrypt`: the IV, the additional data, and the task options. */
export interface EncryptOptions extends TaskOptions {
  /** A 12-byte IV; never reuse one with the same key. Default: 12 bytes from the OS's CSPRNG. */
  iv?: ArrayBufferView | ArrayBuffer | SharedArrayBuffer
  /** Additional authenticated data: authenticated, not encrypted. Default: none. */
  aad?: BinaryLike
}

/** Options of `decrypt`: the additional data it was sealed with, and the task options. */
export interface DecryptOptions extends TaskOptions {
  /** Additional authenticated data, as given to `encrypt`. Default: none. */
  aad?: BinaryLike
}

/**
 * Encrypts and authenticates `plaintext` on the CPU pool with a 32-byte (`aes-128-gcm`: 16-byte)
 * key. The result opens with node's `createDecipheriv` and `decrypt`. A key of the wrong length
 * rejects with `ERR_CRYPTO_INVALID_KEYLEN`, an IV that is not 12 bytes with
 * `ERR_CRYPTO_INVALID_IV`.
 */
export declare function encrypt(algorithm: CipherAlgorithm, key: BinaryLike, plaintext: BinaryLike, options?: EncryptOptions): Promise<Encrypted>

/**
 * Verifies and decrypts a sealed message on the CPU pool (from `encrypt` or node's
 * `createCipheriv`). A wrong key, IV, tag, `aad` or ciphertext rejects with
 * `ERR_OFFLOAD_AUTH_FAILED`, and no plaintext is released.
 */
export declare function decrypt(algorithm: CipherAlgorithm, key: BinaryLike, encrypted: EncryptedInput, options?: DecryptOptions): Promise<Buffer>
