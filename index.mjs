// ESM entry: the same objects as the CommonJS entry, so both share one default pool.
import offload from './index.js'

export const {
  createCompressStream, createDecompressStream,
  Pool, defaultPool, hash, hmac, hashMany, compress, decompress, imageInfo, transformImage,
  hashFile, hmacFile, compressFile, decompressFile, encryptFile, decryptFile,
  parseCsv, parseNdjson, parseJson,
  hashPassword, verifyPassword, needsRehash, scrypt, pbkdf2, hkdf, encrypt, decrypt,
  exec, spawn, Supervisor, Subprocess, processStats, ProcessPool, ThreadPool, pythonPath, metrics,
  AbortError, OffloadError, SubprocessError,
} = offload
export default offload
