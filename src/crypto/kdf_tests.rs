//! Known-answer tests from the RFCs (independent of the code under test) and the parameter
//! rules of OpenSSL's `EVP_PBE_scrypt`. The JS tests compare every derivation with node's.

use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::kernels::test_util::NEVER;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn pbkdf2_vec(d: Digest, p: &[u8], s: &[u8], c: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    pbkdf2(d, p, s, c, &mut out, NEVER).unwrap();
    out
}

#[test]
fn pbkdf2_matches_rfc_6070() {
    let cases: [(&[u8], &[u8], u32, &str); 5] = [
        (
            b"password",
            b"salt",
            1,
            "0c60c80f961f0e71f3a9b524af6012062fe037a6",
        ),
        (
            b"password",
            b"salt",
            2,
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
        ),
        (
            b"password",
            b"salt",
            4096,
            "4b007901b765489abead49d926f721d065a429c1",
        ),
        (
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
        ),
        (
            b"pass\0word",
            b"sa\0lt",
            4096,
            "56fa6aa75548099dcc37d7f03425e0c3",
        ),
    ];
    for (p, s, c, want) in cases {
        let want = hex(want);
        assert_eq!(
            pbkdf2_vec(Digest::Sha1, p, s, c, want.len()),
            want,
            "c = {c}"
        );
    }
}

#[test]
fn pbkdf2_sha256_matches_the_published_vector() {
    // RFC 7914 section 11 (PBKDF2-HMAC-SHA256, c = 1, 64 bytes: two blocks).
    let want = hex(
        "55 ac 04 6e 56 e3 08 9f ec 16 91 c2 25 44 b6 05 f9 41 85 21 6d de 04 65 e6 8b 9d 57 c2 0d
         ac bc 49 ca 9c cc f1 79 b6 45 99 16 64 b3 9d 77 ef 31 7c 71 b8 45 b1 e3 0b d5 09 11 20 41
         d3 a1 97 83",
    );
    assert_eq!(pbkdf2_vec(Digest::Sha256, b"passwd", b"salt", 1, 64), want);
}

#[test]
fn pbkdf2_stops_between_iterations() {
    // The first poll (before any work) passes, the next one (after PBKDF2_POLL iterations)
    // cancels: without polls inside the loop this would run a million iterations and succeed.
    let polls = AtomicU32::new(0);
    let cancel = || polls.fetch_add(1, Ordering::Relaxed) >= 1;
    let mut out = [0u8; 32];
    let r = pbkdf2(Digest::Sha256, b"p", b"s", 1_000_000, &mut out, &cancel);
    assert!(matches!(r, Err(KernelError::Cancelled)), "{r:?}");
    assert_eq!(polls.load(Ordering::Relaxed), 2);
}

#[test]
fn hkdf_matches_rfc_5869() {
    let ikm = [0x0b; 22];
    let salt: Vec<u8> = (0..=0x0c).collect();
    let info: Vec<u8> = (0xf0..=0xf9).collect();
    let mut okm = [0u8; 42];
    hkdf(Digest::Sha256, &ikm, &salt, &info, &mut okm, NEVER).unwrap();
    assert_eq!(
        okm.to_vec(),
        hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    );
    // Test case 3: no salt (node passes an empty one: the same HMAC key as the RFC's zeros).
    hkdf(Digest::Sha256, &ikm, &[], &[], &mut okm, NEVER).unwrap();
    assert_eq!(
        okm.to_vec(),
        hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    );
    // Test case 4: SHA-1.
    hkdf(Digest::Sha1, &ikm[..11], &salt, &info, &mut okm, NEVER).unwrap();
    assert_eq!(
        okm.to_vec(),
        hex("085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896")
    );
}

#[test]
fn hkdf_refuses_more_than_255_blocks() {
    let mut out = vec![0u8; Digest::Sha256.hkdf_max_len()];
    hkdf(Digest::Sha256, b"k", b"", b"", &mut out, NEVER).unwrap();
    out.push(0);
    assert!(hkdf(Digest::Sha256, b"k", b"", b"", &mut out, NEVER).is_err());
}

#[test]
fn scrypt_matches_rfc_7914() {
    let mut out = [0u8; 64];
    let params = ScryptParams::new(16, 1, 1, SCRYPT_DEFAULT_MAXMEM).unwrap();
    scrypt(b"", b"", &params, &mut out, NEVER).unwrap();
    let want = hex(
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
         fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
    );
    assert_eq!(out.to_vec(), want);
    let params = ScryptParams::new(1024, 8, 16, SCRYPT_DEFAULT_MAXMEM).unwrap();
    scrypt(b"password", b"NaCl", &params, &mut out, NEVER).unwrap();
    let want = hex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
         2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
    );
    assert_eq!(out.to_vec(), want);
}

#[test]
fn scrypt_params_follow_openssl() {
    use ScryptParamsError as E;
    let max = SCRYPT_DEFAULT_MAXMEM;
    assert_eq!(ScryptParams::new(3, 8, 1, max).unwrap_err(), E::N(3));
    assert_eq!(ScryptParams::new(1, 8, 1, max).unwrap_err(), E::N(1));
    assert_eq!(ScryptParams::new(16, 0, 1, max).unwrap_err(), E::Zero);
    assert_eq!(ScryptParams::new(16, 1, 0, max).unwrap_err(), E::Zero);
    assert!(matches!(
        ScryptParams::new(16, 1 << 15, 1 << 15, u64::MAX),
        Err(E::RTimesP { .. })
    ));
    assert!(matches!(
        ScryptParams::new(1 << 16, 1, 1, max),
        Err(E::NForR { .. })
    ));
    assert!(ScryptParams::new(1 << 15, 1, 1, max).is_ok());
    // node's default N = 2^14, r = 8 fits in 32 MiB; 2^15 does not (node says the same).
    assert!(ScryptParams::new(1 << 14, 8, 1, max).is_ok());
    assert!(matches!(
        ScryptParams::new(1 << 15, 8, 1, max),
        Err(E::Memory { .. })
    ));
    // The count is 128 r (N + 2 + p): one byte less than it is refused.
    let need = 128 * 8 * ((1 << 14) + 2 + 1);
    assert_eq!(ScryptParams::new(1 << 14, 8, 1, need).unwrap().memory, need);
    assert!(matches!(
        ScryptParams::new(1 << 14, 8, 1, need - 1),
        Err(E::Memory { .. })
    ));
}

#[test]
fn scrypt_of_empty_output_is_empty() {
    let params = ScryptParams::new(16, 1, 1, SCRYPT_DEFAULT_MAXMEM).unwrap();
    scrypt(b"p", b"s", &params, &mut [], NEVER).unwrap();
}

#[test]
fn digest_names_are_node_spellings() {
    assert_eq!(Digest::from_name("SHA256"), Some(Digest::Sha256));
    assert_eq!(Digest::from_name("sha-512"), Some(Digest::Sha512));
    assert_eq!(Digest::from_name("sha512-256"), Some(Digest::Sha512_256));
    assert_eq!(Digest::from_name("SHA3-256"), Some(Digest::Sha3_256));
    assert_eq!(Digest::from_name("sha999"), None);
    assert_eq!(Digest::from_name("blake3"), None);
    for d in Digest::ALL {
        assert_eq!(Digest::from_name(d.name()), Some(d));
    }
    assert_eq!(Digest::Sha1.output_len(), 20);
    assert_eq!(Digest::Sha512_224.output_len(), 28);
    assert_eq!(Digest::Sha3_384.output_len(), 48);
}
