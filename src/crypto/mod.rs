//! Passwords and encryption (issue 16): password hashing and verification (`password`), raw
//! key derivations (`kdf`), authenticated encryption (`aead`) and its chunked form for data of
//! any size (`seal`, issue 17), all run on the CPU pool. Each submodule says what it guarantees;
//! none of them puts a secret in an error message.

pub mod aead;
pub mod kdf;
pub mod password;
pub mod seal;
