//! bcrypt through Keats' `bcrypt` crate (on RustCrypto's `blowfish`): hashes are written as
//! `$2b$`; `$2a$`, `$2b$` and `$2y$` verify alike (they name the same algorithm, the prefixes
//! differing only in which historic bug an implementation had fixed). `$2x$` (crypt_blowfish's
//! buggy 8-bit mode) is refused: verifying it as `$2b$` would be wrong for non-ASCII passwords.
//! Passwords over 72 bytes never get here (`Spec::check_password`), so the crate's truncation
//! never happens; the password's bytes are used as given (a NUL included, where C bindings
//! such as the `bcrypt` npm package stop at it).

use super::{Kind, PasswordError, Spec, within};

/// bcrypt's base64 alphabet (not the standard one).
const ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(super) fn hash(password: &[u8], salt: [u8; 16], cost: u32) -> Result<String, PasswordError> {
    // Cost and length are checked (`Spec::bcrypt`, `check_password`): the crate cannot fail.
    let parts = ::bcrypt::hash_with_salt(password, cost, salt)
        .map_err(|e| PasswordError::Failed(e.to_string()))?;
    Ok(parts.format_for_version(::bcrypt::Version::TwoB))
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

pub(super) fn verify(text: &str, password: &[u8]) -> Result<bool, PasswordError> {
    // Compares with `subtle`'s constant-time equality.
    ::bcrypt::verify(password, text).map_err(|e| malformed(&e.to_string()))
}
