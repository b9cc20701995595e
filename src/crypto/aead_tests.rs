//! Known answers from the GCM paper (McGrew and Viega's test cases) and RFC 8439, tampering in
//! each input, and cancellation. The JS tests check interoperation with node's
//! createCipheriv/createDecipheriv both ways.

use super::*;
use crate::kernels::test_util::{ALWAYS, NEVER, random_bytes};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn tag_of(s: &str) -> [u8; TAG_LEN] {
    hex(s).try_into().unwrap()
}

#[test]
fn aes_gcm_matches_the_gcm_paper() {
    let zero = [0u8; 32];
    let iv = [0u8; IV_LEN];
    // Test case 2 (AES-128, one zero block).
    let (c, t) = seal(Algorithm::Aes128Gcm, &zero[..16], &iv, &[], &[0; 16], NEVER).unwrap();
    assert_eq!(c, hex("0388dace60b6a392f328c2b971b2fe78"));
    assert_eq!(t, tag_of("ab6e47d42cec13bdf53a67b21257bddf"));
    // Test cases 13 and 14 (AES-256, empty and one zero block).
    let (c, t) = seal(Algorithm::Aes256Gcm, &zero, &iv, &[], &[], NEVER).unwrap();
    assert!(c.is_empty());
    assert_eq!(t, tag_of("530f8afbc74536b9a963b4f1c4cb738b"));
    let (c, t) = seal(Algorithm::Aes256Gcm, &zero, &iv, &[], &[0; 16], NEVER).unwrap();
    assert_eq!(c, hex("cea7403d4d606b6e074ec5d3baf39d18"));
    assert_eq!(t, tag_of("d0d1c8a799996bf0265b98b5d48ab919"));
}

#[test]
fn chacha20_poly1305_matches_rfc_8439() {
    let key: Vec<u8> = (0x80..=0x9f).collect();
    let iv: [u8; IV_LEN] = hex("070000004041424344454647").try_into().unwrap();
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip \
                      for the future, sunscreen would be it.";
    let (c, t) = seal(
        Algorithm::ChaCha20Poly1305,
        &key,
        &iv,
        &aad,
        plaintext,
        NEVER,
    )
    .unwrap();
    assert_eq!(
        c,
        hex(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca967
             1282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58
             fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
        )
    );
    assert_eq!(t, tag_of("1ae10b594f09e26a7e902ecbd0600691"));
    let opened = open(Algorithm::ChaCha20Poly1305, &key, &iv, &aad, &c, &t, NEVER).unwrap();
    assert_eq!(opened, plaintext);
}

#[test]
fn any_change_fails_authentication() {
    for alg in Algorithm::ALL {
        let key = random_bytes(alg.key_len(), 1);
        let iv = [7u8; IV_LEN];
        let aad = b"header";
        let msg = random_bytes(1000, 2);
        let (c, t) = seal(alg, &key, &iv, aad, &msg, NEVER).unwrap();
        assert_eq!(open(alg, &key, &iv, aad, &c, &t, NEVER).unwrap(), msg);
        let fails = |key: &[u8], iv: &[u8; IV_LEN], aad: &[u8], c: &[u8], t: &[u8; TAG_LEN]| {
            matches!(
                open(alg, key, iv, aad, c, t, NEVER),
                Err(KernelError::AuthFailed)
            )
        };
        let mut bad_key = key.clone();
        bad_key[0] ^= 1;
        assert!(fails(&bad_key, &iv, aad, &c, &t), "{alg:?} key");
        let mut bad_iv = iv;
        bad_iv[11] ^= 1;
        assert!(fails(&key, &bad_iv, aad, &c, &t), "{alg:?} iv");
        assert!(fails(&key, &iv, b"headeR", &c, &t), "{alg:?} aad");
        assert!(fails(&key, &iv, &[], &c, &t), "{alg:?} no aad");
        let mut bad_c = c.clone();
        bad_c[500] ^= 0x80;
        assert!(fails(&key, &iv, aad, &bad_c, &t), "{alg:?} ciphertext");
        assert!(fails(&key, &iv, aad, &c[..999], &t), "{alg:?} truncated");
        let mut bad_t = t;
        bad_t[15] ^= 1;
        assert!(fails(&key, &iv, aad, &c, &bad_t), "{alg:?} tag");
    }
}

#[test]
fn wrong_key_length_is_an_error_not_a_panic() {
    let r = seal(
        Algorithm::Aes256Gcm,
        &[0; 16],
        &[0; IV_LEN],
        &[],
        b"x",
        NEVER,
    );
    assert!(matches!(r, Err(KernelError::Unsupported(_))), "{r:?}");
    let r = open(
        Algorithm::Aes128Gcm,
        &[0; 32],
        &[0; IV_LEN],
        &[],
        b"x",
        &[0; 16],
        NEVER,
    );
    assert!(matches!(r, Err(KernelError::Unsupported(_))), "{r:?}");
}

#[test]
fn a_cancelled_task_does_no_work() {
    let r = seal(
        Algorithm::Aes256Gcm,
        &[0; 32],
        &[0; IV_LEN],
        &[],
        b"x",
        ALWAYS,
    );
    assert!(matches!(r, Err(KernelError::Cancelled)));
    let r = open(
        Algorithm::Aes256Gcm,
        &[0; 32],
        &[0; IV_LEN],
        &[],
        b"x",
        &[0; 16],
        ALWAYS,
    );
    assert!(matches!(r, Err(KernelError::Cancelled)));
}

#[test]
fn random_ivs_differ() {
    let a = random_iv().unwrap();
    let b = random_iv().unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0; IV_LEN]);
}

#[test]
fn names_round_trip() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.name().parse::<Algorithm>().unwrap(), alg);
    }
    assert!("aes-256-cbc".parse::<Algorithm>().is_err());
}
