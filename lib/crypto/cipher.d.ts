// (issue 16: being built) key derivation and AEAD typings.
export {}
