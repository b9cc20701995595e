//! (issue 16: being built) key derivation and AEAD entry points.
