// Typings for password hashing (lib/crypto/passwords.js). Re-exported by lib/crypto/types.d.ts.
import type { TaskOptions } from '../cpu/types'
import type { PasswordOptions as NativePasswordOptions } from '../../napi/binding'

/** The algorithms `hashPassword` writes. */
export type PasswordAlgorithm = 'argon2id' | 'argon2i' | 'argon2d' | 'scrypt' | 'bcrypt'

/**
 * The algorithm and its parameters (field docs in binding.d.ts). Defaults: OWASP's Password
 * Storage Cheat Sheet (argon2id 19 MiB, t = 2, p = 1; scrypt N = 2^17, r = 8, p = 1; bcrypt 10).
 * An option of another algorithm is an error, not ignored.
 */
export interface PasswordOptions extends Omit<NativePasswordOptions, 'algorithm'> {
  algorithm?: PasswordAlgorithm
}

/**
 * Hashes `password` (a string, read as UTF-8, or bytes) on the CPU pool with a fresh 16-byte
 * salt from the OS CSPRNG: a PHC string for argon2 (`$argon2id$v=19$m=19456,t=2,p=1$…$…`) and
 * scrypt (`$scrypt$ln=17,r=8,p=1$…$…`), `$2b$…` for bcrypt. Rejects with `ERR_OUT_OF_RANGE` for
 * a parameter out of range or a bcrypt password over 72 bytes (bcrypt would ignore the rest).
 */
export declare function hashPassword(password: string | ArrayBufferView | ArrayBuffer, options?: PasswordOptions & TaskOptions): Promise<string>

/**
 * Whether `password` is the one `encoded` was made from, compared in constant time: `false` for a
 * wrong password, never an error. Reads the hashes of `hashPassword`, @node-rs/argon2,
 * node-argon2 and bcrypt (`$2a$`, `$2b$`, `$2y$`). Rejects with `ERR_INVALID_ARG_VALUE` for a
 * malformed `encoded`, and `ERR_OUT_OF_RANGE` for a bcrypt password over 72 bytes.
 */
export declare function verifyPassword(encoded: string, password: string | ArrayBufferView | ArrayBuffer, options?: TaskOptions): Promise<boolean>

/**
 * Whether hashing with `options` (the defaults when absent) would give another kind of hash than
 * `encoded`: another algorithm, any parameter different, or argon2 version 0x10. Parses only,
 * so it is synchronous. Throws `ERR_INVALID_ARG_VALUE` for a malformed `encoded`.
 */
export declare function needsRehash(encoded: string, options?: PasswordOptions): boolean
