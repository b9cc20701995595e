//! File kernels against the one-shot kernels on the same bytes (and gzip(1)), and the
//! atomic-output guarantee: after an error, cancel or panic, neither `dest` nor a temporary
//! file exists.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::kernels::compress::{self, Format};
use crate::kernels::hash::{self, HashAlgorithm};
use crate::kernels::test_util::{ALWAYS, NEVER, log_text, pipe_through, random_bytes};
use crate::kernels::{Cancel, KernelError};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("offload-files-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, data).unwrap();
        p
    }
    /// Names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const SIZES: [usize; 6] = [
    0,
    1,
    READ_CHUNK - 1,
    READ_CHUNK,
    READ_CHUNK + 1,
    3 * READ_CHUNK + 7,
];

fn file_error(r: Result<impl std::fmt::Debug, Error>) -> FileError {
    match r {
        Err(Error::File(e)) => e,
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn hash_file_equals_the_one_shot_digest_at_chunk_edges() {
    let dir = TempDir::new();
    for (i, &len) in SIZES.iter().enumerate() {
        let data = random_bytes(len, i as u64 + 1);
        let p = dir.file("in", &data);
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Blake3,
            HashAlgorithm::Crc32c,
        ] {
            let want = hash::digest(alg, &data, NEVER).unwrap();
            assert_eq!(hash_file(alg, &p, NEVER).unwrap(), want, "{alg:?} of {len}");
        }
        let want = hash::hmac(HashAlgorithm::Sha512, b"k", &data, NEVER).unwrap();
        let got = hmac_file(HashAlgorithm::Sha512, b"k", &p, NEVER).unwrap();
        assert_eq!(got, want, "hmac of {len}");
    }
}

#[test]
fn sha256_matches_sha256sum() {
    let data = random_bytes(2 * READ_CHUNK + 99, 5);
    let dir = TempDir::new();
    let p = dir.file("in", &data);
    let Some(out) = pipe_through("sha256sum", &[], &data) else {
        return;
    };
    let want = String::from_utf8(out).unwrap();
    let got = hex::encode(hash_file(HashAlgorithm::Sha256, &p, NEVER).unwrap());
    assert_eq!(want.split_whitespace().next(), Some(got.as_str()));
}

#[test]
fn compress_then_decompress_round_trips_every_streaming_format() {
    let dir = TempDir::new();
    let data = log_text(3 * READ_CHUNK + 5);
    let src = dir.file("in", &data);
    for format in [
        Format::Gzip,
        Format::Deflate,
        Format::DeflateRaw,
        Format::Brotli,
        Format::Zstd,
    ] {
        let packed = dir.0.join("packed");
        let level = if format == Format::Brotli {
            4
        } else {
            format.default_level()
        };
        let t =
            compress_file(format, level, &src, &packed, WriteOptions::default(), NEVER).unwrap();
        let bytes = fs::read(&packed).unwrap();
        assert_eq!(t.bytes_read, data.len() as u64);
        assert_eq!(t.bytes_written, bytes.len() as u64);
        // The one-shot decoder is the oracle for the encoder's output.
        let max = usize::MAX;
        assert_eq!(
            compress::decompress(format, &bytes, max, NEVER).unwrap(),
            data
        );
        let back = dir.0.join("back");
        let t = decompress_file(
            format,
            u64::MAX,
            &packed,
            &back,
            WriteOptions { fsync: true },
            NEVER,
        )
        .unwrap();
        assert_eq!(fs::read(&back).unwrap(), data, "{format:?}");
        assert_eq!(
            (t.bytes_read, t.bytes_written),
            (bytes.len() as u64, data.len() as u64)
        );
    }
    assert_eq!(dir.names(), ["back", "in", "packed"]);
}

#[test]
fn gzip_output_is_read_by_gzip() {
    let dir = TempDir::new();
    let data = log_text(READ_CHUNK + 3);
    let src = dir.file("in", &data);
    let dest = dir.0.join("in.gz");
    compress_file(Format::Gzip, 6, &src, &dest, WriteOptions::default(), NEVER).unwrap();
    if let Some(out) = pipe_through("gzip", &["-dc"], &fs::read(&dest).unwrap()) {
        assert_eq!(out, data);
    }
    // And the other way: gzip(1)'s output decompresses to the file.
    if let Some(gz) = pipe_through("gzip", &["-c"], &data) {
        let packed = dir.file("gz", &gz);
        let back = dir.0.join("back");
        decompress_file(
            Format::Gzip,
            u64::MAX,
            &packed,
            &back,
            WriteOptions::default(),
            NEVER,
        )
        .unwrap();
        assert_eq!(fs::read(&back).unwrap(), data);
    }
}

/// Every failure leaves the directory as it was: `dest` unchanged, no temporary file.
#[test]
fn failures_leave_no_output_and_no_temporary_file() {
    let dir = TempDir::new();
    let data = log_text(2 * READ_CHUNK);
    let src = dir.file("in", &data);
    let gz = dir.file(
        "gz",
        &compress::compress(Format::Gzip, &data, 6, NEVER).unwrap(),
    );
    let dest = dir.0.join("out");
    let w = WriteOptions::default();

    let r = compress_file(Format::Gzip, 6, &src, &dest, w, ALWAYS);
    assert!(
        matches!(r, Err(Error::Kernel(KernelError::Cancelled))),
        "{r:?}"
    );

    // Cancelled after the first chunk: the temporary file existed and had data.
    let polls = AtomicUsize::new(0);
    let later: Cancel = &|| polls.fetch_add(1, Ordering::Relaxed) > 3;
    let r = decompress_file(Format::Gzip, u64::MAX, &gz, &dest, w, later);
    assert!(
        matches!(r, Err(Error::Kernel(KernelError::Cancelled))),
        "{r:?}"
    );

    let r = decompress_file(Format::Gzip, 1000, &gz, &dest, w, NEVER);
    assert!(
        matches!(r, Err(Error::Kernel(KernelError::OutputTooLarge { .. }))),
        "{r:?}"
    );

    let mut cut = fs::read(&gz).unwrap();
    cut.truncate(cut.len() - 9);
    let cut = dir.file("cut", &cut);
    let r = decompress_file(Format::Gzip, u64::MAX, &cut, &dest, w, NEVER);
    assert!(
        matches!(r, Err(Error::Kernel(KernelError::CorruptInput { .. }))),
        "{r:?}"
    );
    fs::remove_file(&cut).unwrap();

    let r = decompress_file(Format::Lz4, u64::MAX, &src, &dest, w, NEVER);
    assert!(
        matches!(r, Err(Error::Kernel(KernelError::Unsupported(_)))),
        "{r:?}"
    );
    assert_eq!(dir.names(), ["gz", "in"]);

    // An existing dest is untouched by a failure.
    fs::write(&dest, b"old").unwrap();
    let r = decompress_file(Format::Gzip, 1000, &gz, &dest, w, NEVER);
    assert!(r.is_err());
    assert_eq!(fs::read(&dest).unwrap(), b"old");
    assert_eq!(dir.names(), ["gz", "in", "out"]);
}

#[test]
fn a_panic_while_writing_removes_the_temporary_file() {
    let dir = TempDir::new();
    let dest = dir.0.join("out");
    let r = std::panic::catch_unwind(|| {
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write(b"partial").unwrap();
        assert!(f.temp_path().exists());
        panic!("mid-write");
    });
    assert!(r.is_err());
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn new_files_get_the_mode_fs_write_gives() {
    let dir = TempDir::new();
    // std creates files with 0o666 under the umask, as node's fs.writeFile: the oracle.
    let reference = dir.file("ref", b"");
    let dest = dir.0.join("out");
    let mut f = AtomicFile::create(&dest).unwrap();
    f.write(b"x").unwrap();
    assert_eq!(f.commit(false).unwrap(), 1);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dest), mode(&reference));
}

#[test]
fn file_errors_carry_node_code_call_and_path() {
    let dir = TempDir::new();
    let missing = dir.0.join("missing");
    let e = file_error(hash_file(HashAlgorithm::Sha256, &missing, NEVER));
    assert_eq!(
        (e.code, e.errno, e.syscall),
        ("ENOENT", libc::ENOENT, "open")
    );
    assert_eq!(e.path, missing);
    let want = format!(
        "ENOENT: no such file or directory, open '{}'",
        missing.display()
    );
    assert_eq!(e.to_string(), want);

    let e = file_error(hash_file(HashAlgorithm::Sha256, &dir.0, NEVER));
    assert_eq!((e.code, e.syscall), ("EISDIR", "read"));
    assert!(
        e.to_string()
            .starts_with("EISDIR: illegal operation on a directory, read '")
    );

    // A destination in a missing directory names the destination, as fs.writeFile does.
    let src = dir.file("in", b"abc");
    let dest = dir.0.join("no/such/dir/out");
    let e = file_error(compress_file(
        Format::Gzip,
        6,
        &src,
        &dest,
        WriteOptions::default(),
        NEVER,
    ));
    assert_eq!(
        (e.code, e.syscall, e.path.as_path()),
        ("ENOENT", "open", dest.as_path())
    );

    // A directory as destination: the rename fails, and the temporary file goes.
    let e = file_error(compress_file(
        Format::Gzip,
        6,
        &src,
        &dir.0,
        WriteOptions::default(),
        NEVER,
    ));
    assert_eq!(e.code, "EISDIR");
    assert_eq!(dir.names(), ["in"]);
}

/// encryptFile's output opens with the in-memory Opener (the format's own reader, checked
/// against known answers in `crypto::seal`), decryptFile gives the plaintext back at every
/// size around the read chunk, and a damaged file or a wrong key leaves no `dest` (an old one
/// untouched) and no temporary file: never a prefix of plaintext.
#[test]
fn encrypted_files_round_trip_and_damage_leaves_nothing() {
    use crate::crypto::aead::Algorithm;
    use crate::crypto::seal::Opener;
    let dir = TempDir::new();
    let key = [7u8; 32];
    let opts = WriteOptions::default();
    for (i, size) in SIZES.into_iter().enumerate() {
        let alg = Algorithm::ALL[i % 3];
        let key = &key[..alg.key_len()];
        let data = random_bytes(size, i as u64 + 1);
        let src = dir.file("plain", &data);
        let (sealed, opened) = (dir.0.join("sealed"), dir.0.join("opened"));
        let t = encrypt_file(alg, key, &src, &sealed, opts, NEVER).unwrap();
        let bytes = fs::read(&sealed).unwrap();
        assert_eq!(
            (t.bytes_read, t.bytes_written),
            (size as u64, bytes.len() as u64)
        );
        let mut o = Opener::new(Some(alg), key).unwrap();
        let mut back = o.push(&bytes, NEVER).unwrap();
        back.extend(o.finish(NEVER).unwrap());
        assert_eq!(back, data, "{alg:?} {size}");
        let t = decrypt_file(None, key, &sealed, &opened, opts, NEVER).unwrap();
        assert_eq!(fs::read(&opened).unwrap(), data, "{alg:?} {size}");
        assert_eq!(t.bytes_written, size as u64);
        fs::remove_file(&opened).unwrap();
    }

    let data = random_bytes(2 * READ_CHUNK + 5, 9);
    let src = dir.file("plain", &data);
    let sealed = dir.0.join("sealed");
    encrypt_file(Algorithm::Aes256Gcm, &key, &src, &sealed, opts, NEVER).unwrap();
    let good = fs::read(&sealed).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 1;
    let damaged: [(&str, Vec<u8>, &[u8]); 4] = [
        ("a flipped byte", flipped, &key),
        ("the last byte cut", good[..good.len() - 1].to_vec(), &key),
        (
            "a segment too many",
            [&good[..], &good[43..43 + 64]].concat(),
            &key,
        ),
        ("a wrong key", good.clone(), &[8u8; 32]),
    ];
    for (what, bytes, key) in damaged {
        let bad = dir.file("bad", &bytes);
        let dest = dir.file("out", b"old contents");
        let r = decrypt_file(None, key, &bad, &dest, opts, NEVER);
        assert!(
            matches!(r, Err(Error::Kernel(KernelError::AuthFailed))),
            "{what}: {r:?}"
        );
        assert_eq!(fs::read(&dest).unwrap(), b"old contents", "{what}");
        assert_eq!(dir.names(), ["bad", "out", "plain", "sealed"], "{what}");
    }
    let r = decrypt_file(None, &key, &sealed, &dir.0.join("x"), opts, ALWAYS);
    assert!(matches!(r, Err(Error::Kernel(KernelError::Cancelled))));
    assert!(!dir.0.join("x").exists());
}
