//! bcrypt on our EksBlowfish (`eksblowfish.rs`; Keats' `bcrypt` crate, which it replaced for
//! speed, is kept as the tests' oracle): hashes are written as `$2b$`; `$2a$`, `$2b$` and `$2y$`
//! verify alike (they name the same algorithm, the prefixes
//! differing only in which historic bug an implementation had fixed). `$2x$` (crypt_blowfish's
//! buggy 8-bit mode) is refused: verifying it as `$2b$` would be wrong for non-ASCII passwords.
//! Passwords over 72 bytes never get here (`Spec::check_password`), so nothing is truncated;
//! the password's bytes are used as given (a NUL included, where C bindings such as the
//! `bcrypt` npm package stop at it). Salt and hash are bcrypt's base64, canonical only (unused
//! trailing bits zero), as the crate read them; digests are compared in constant time
//! (`subtle`).

use base64::Engine;
use base64::alphabet::BCRYPT;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::NO_PAD;
use subtle::ConstantTimeEq;

use super::eksblowfish;
use super::{Kind, PasswordError, Spec, within};

/// bcrypt's base64 alphabet (not the standard one).
const ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Its codec, unpadded; decoding refuses nonzero unused trailing bits.
const B64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

pub(super) fn hash(
    password: &[u8],
    salt: [u8; 16],
    cost: u32,
    cancelled: &dyn Fn() -> bool,
) -> Result<String, PasswordError> {
    // Cost and length are checked (`Spec::bcrypt`, `check_password`).
    let digest =
        eksblowfish::bcrypt(cost, &salt, password, cancelled).ok_or(PasswordError::Cancelled)?;
    Ok(format!(
        "$2b${cost:02}${}{}",
        B64.encode(salt),
        B64.encode(digest)
    ))
}

fn malformed(why: &str) -> PasswordError {
    PasswordError::Malformed(format!("it is not a valid bcrypt hash ({why})"))
}

/// `$2a$`, `$2b$` or `$2y$`, a two-digit cost from 4 to 31, then 53 characters of bcrypt's
/// base64 (22 of salt, 31 of hash).
pub(super) fn parse(text: &str) -> Result<Spec, PasswordError> {
    let b = text.as_bytes();
    if b.len() != 60 {
        return Err(malformed("not 60 characters long"));
    }
    if !matches!(&b[..4], b"$2a$" | b"$2b$" | b"$2y$") {
        return Err(malformed("the prefix is not $2a$, $2b$ or $2y$"));
    }
    if b[6] != b'$' || !b[4].is_ascii_digit() || !b[5].is_ascii_digit() {
        return Err(malformed("no two-digit cost"));
    }
    if !b[7..].iter().all(|c| ALPHABET.contains(c)) {
        return Err(malformed("salt and hash are not bcrypt base64"));
    }
    let cost = u64::from(b[4] - b'0') * 10 + u64::from(b[5] - b'0');
    Ok(Spec(Kind::Bcrypt {
        cost: within("cost", cost, 4, 31)
            .map_err(|_| malformed("the cost is not from 04 to 31"))?,
    }))
}

pub(super) fn verify(
    text: &str,
    password: &[u8],
    cancelled: &dyn Fn() -> bool,
) -> Result<bool, PasswordError> {
    // Parsed again (60 characters, cost 04 to 31, the alphabet): the slicing below relies on it.
    let Spec(Kind::Bcrypt { cost }) = parse(text)? else {
        return Err(malformed("not bcrypt")); // never: `parse` makes bcrypt specs only
    };
    let b = text.as_bytes();
    let (mut salt, mut expected) = ([0u8; 16], [0u8; 23]);
    B64.decode_slice(&b[7..29], &mut salt)
        .map_err(|_| malformed("the salt is not canonical bcrypt base64"))?;
    B64.decode_slice(&b[29..], &mut expected)
        .map_err(|_| malformed("the hash is not canonical bcrypt base64"))?;
    let digest =
        eksblowfish::bcrypt(cost, &salt, password, cancelled).ok_or(PasswordError::Cancelled)?;
    Ok(bool::from(digest.ct_eq(&expected)))
}
