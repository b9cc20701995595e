//! Our bcrypt against two independent implementations: known answers from jBCrypt and from the
//! `bcrypt` npm package (OpenBSD's C code), and a differential test against Keats' `bcrypt`
//! crate (on RustCrypto's blowfish) over random passwords, salts and costs, through `hash` and
//! `verify` as the rest of the crate calls them.

use super::super::bcrypt::{hash, parse, verify};
use super::bcrypt;

const NEVER: &dyn Fn() -> bool = &|| false;

/// xorshift64, fixed seed: failures reproduce.
fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// Password, cost, salt, the 23 bytes of digest.
type Raw = (&'static [u8], u32, [u8; 16], [u8; 23]);

/// jBCrypt's raw vectors (salt and digest unbase64ed, as the `bcrypt` crate's own test has
/// them): the key is the password and its NUL.
#[test]
fn raw_digests_match_jbcrypt() {
    let cases: [Raw; 2] = [
        (
            b"",
            6,
            [
                0x14, 0x4b, 0x3d, 0x69, 0x1a, 0x7b, 0x4e, 0xcf, 0x39, 0xcf, 0x73, 0x5c, 0x7f, 0xa7,
                0xa7, 0x9c,
            ],
            [
                0x55, 0x7e, 0x94, 0xf3, 0x4b, 0xf2, 0x86, 0xe8, 0x71, 0x9a, 0x26, 0xbe, 0x94, 0xac,
                0x1e, 0x16, 0xd9, 0x5e, 0xf9, 0xf8, 0x19, 0xde, 0xe0,
            ],
        ),
        (
            b"abcdefghijklmnopqrstuvwxyz",
            8,
            [
                0x71, 0x5b, 0x96, 0xca, 0xed, 0x2a, 0xc9, 0x2c, 0x35, 0x4e, 0xd1, 0x6c, 0x1e, 0x19,
                0xe3, 0x8a,
            ],
            [
                0x98, 0xbf, 0x9f, 0xfc, 0x1f, 0x5b, 0xe4, 0x85, 0xf9, 0x59, 0xe8, 0xb1, 0xd5, 0x26,
                0x39, 0x2f, 0xbd, 0x4e, 0xd2, 0xd5, 0x71, 0x9f, 0x50,
            ],
        ),
    ];
    for (password, cost, salt, digest) in cases {
        assert_eq!(
            bcrypt(cost, &salt, password, &|| false),
            Some(digest),
            "{password:?}"
        );
    }
}

/// Hashes the `bcrypt` npm package 6 wrote (`hashSync`), including multi-byte UTF-8 and the
/// 71- and 72-byte edges (72: no room for the NUL).
#[test]
fn hashes_of_the_c_implementation_verify() {
    let long = |c: &str, n| c.repeat(n);
    let cases = [
        (
            "".to_owned(),
            "$2b$04$0D5fYRE8C8B0NxogDBEqCeC7lGzFsgZmaxgRhehp9oJOQqwfuxKTu",
        ),
        (
            "a".to_owned(),
            "$2b$05$v/RqAH7Od1yb5YihjuIdX.jya5/V3L4XLM.8kjdfA72SUDoumJc.e",
        ),
        (
            "abc".to_owned(),
            "$2b$04$lTTq9vXyFp2yJm6VRZFZqe8.kLs4z6MxJqC0RqAIZ90/VsXXIpZwm",
        ),
        (
            "abcdefghijklmnopqrstuvwxyz".to_owned(),
            "$2b$06$GabSIA8XGM8LRH946bCIX.BcUZVXMU41YG/eP.x.HIMt4XXZTnxkG",
        ),
        (
            "~!@#$%^&*()      ~!@#$%^&*()PNBFRD".to_owned(),
            "$2b$04$Lq0dF7Am3tlKzAgJLvq2CeKEaqHnhDfg3vLszqoJSaxy52k99zOPW",
        ),
        (
            "pässwörd ☃ 🙂".to_owned(),
            "$2b$05$brmPcafRSpbtJ/rAPIB9dOA/2fGdn68ZpAXiymT.gEyFYWXRm47DC",
        ),
        (
            long("x", 71),
            "$2b$04$cmK2B9.Ibbpw/OqUx.SNe.SlXtNX6KLxcPFK1IC0.4wNKtTWj1bIi",
        ),
        (
            long("y", 72),
            "$2b$04$4lGMhQYW2hQEt7.lVB6lQuZpCfUN0n4.MxpvZIaeK9Cv9.E8aKNkq",
        ),
    ];
    for (password, text) in cases {
        parse(text).unwrap();
        assert!(verify(text, password.as_bytes(), NEVER).unwrap(), "{text}");
        let mut wrong = password.clone().into_bytes();
        match wrong.last_mut() {
            Some(last) => *last ^= 1,
            None => wrong.push(b'a'),
        }
        assert!(!verify(text, &wrong, NEVER).unwrap(), "{text}");
        // The same digest under the other prefixes.
        for prefix in ["$2a$", "$2y$"] {
            let other = format!("{prefix}{}", &text[4..]);
            assert!(
                verify(&other, password.as_bytes(), NEVER).unwrap(),
                "{other}"
            );
        }
    }
}

/// Ours against the `bcrypt` crate: the same hash string for random passwords (0 to 72 bytes,
/// any byte, NUL included) and salts at costs 4 to 6, and the same verdicts on right and wrong
/// passwords.
#[test]
fn hashes_and_verdicts_match_the_bcrypt_crate() {
    let mut next = rng(0x2545_F491_4F6C_DD1D);
    for case in 0..150 {
        // Every length up to 72 once, then random ones.
        let len = if case <= 72 { case } else { next(73) as usize };
        let password: Vec<u8> = (0..len).map(|_| next(256) as u8).collect();
        let salt: [u8; 16] = std::array::from_fn(|_| next(256) as u8);
        let cost = 4 + (case % 3) as u32;

        let ours = hash(&password, salt, cost, NEVER).unwrap();
        let theirs = ::bcrypt::hash_with_salt(&password, cost, salt)
            .unwrap()
            .format_for_version(::bcrypt::Version::TwoB);
        assert_eq!(ours, theirs, "case {case}: {len} bytes, cost {cost}");

        let mut wrong = password.clone();
        match wrong.get_mut(next(len.max(1) as u64) as usize) {
            Some(byte) => *byte ^= 1 << next(8),
            // Not a NUL: "" and "\0" are one key (a NUL, cycled), for every bcrypt.
            None => wrong.push(b'a'),
        }
        for candidate in [&password, &wrong] {
            assert_eq!(
                verify(&ours, candidate, NEVER).unwrap(),
                ::bcrypt::verify(candidate, &ours).unwrap(),
                "case {case}"
            );
        }
        assert!(verify(&ours, &password, NEVER).unwrap());
        assert!(!verify(&ours, &wrong, NEVER).unwrap());
    }
}

/// A salt or hash whose last character carries bits that encode nothing is refused, as the
/// crate refused it, rather than verified against a digest it does not spell.
#[test]
fn non_canonical_base64_is_refused_like_the_crate() {
    let good = "$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6";
    assert!(verify(good, b"password", NEVER).unwrap());
    // 'u' ends the salt (22nd character); 'v' differs only in an unused low bit. Likewise
    // '6' ends the hash; '7' differs in an unused bit.
    for bad in [
        good.replacen("Oxug3v", "Oxvg3v", 1),
        format!("{}7", &good[..59]),
    ] {
        parse(&bad).unwrap();
        assert!(verify(&bad, b"password", NEVER).is_err(), "{bad}");
        assert!(::bcrypt::verify(b"password", &bad).is_err(), "{bad}");
    }
}

/// By hand, in release mode: `cargo test --release --lib eksblowfish -- --ignored
/// --nocapture`. Thread CPU time is not in std; wall time over several rounds, medians.
#[test]
#[ignore = "a timing loop, run by hand"]
fn time_ours_and_the_crate() {
    let salt = [7u8; 16];
    let password = b"correct horse battery staple";
    for cost in [10, 12] {
        let median = |f: &dyn Fn()| {
            f();
            let mut ms: Vec<f64> = (0..7)
                .map(|_| {
                    let t = std::time::Instant::now();
                    for _ in 0..3 {
                        f();
                    }
                    t.elapsed().as_secs_f64() * 1e3 / 3.0
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            ms[3]
        };
        let ours = median(&|| {
            std::hint::black_box(bcrypt(cost, &salt, std::hint::black_box(password), &|| {
                false
            }));
        });
        let theirs = median(&|| {
            std::hint::black_box(::bcrypt::hash_with_salt(password, cost, salt).unwrap());
        });
        println!("cost {cost}: ours {ours:.2} ms, bcrypt crate {theirs:.2} ms per hash");
    }
}

/// A cost of 31 would run for about a day; a cancel stops it at the next poll.
#[test]
fn a_cancelled_hash_stops_mid_way() {
    let polls = std::sync::atomic::AtomicU32::new(0);
    let stop_at_third = || polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 2;
    assert_eq!(bcrypt(31, &[7; 16], b"password", &stop_at_third), None);
    assert_eq!(polls.into_inner(), 3);
}
