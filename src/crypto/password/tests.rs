//! Known answers from independent implementations (node-argon2, the C reference; RFC 7914 via
//! node's `crypto.scrypt`; jBCrypt's vectors), round trips, parameter ranges, and the memory
//! budget: a hash whose memory does not fit waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;

const NEVER: &dyn Fn() -> bool = &|| false;

fn small(alg: Algorithm) -> Spec {
    match alg {
        Algorithm::Scrypt => Spec::scrypt(16, 8, 1).unwrap(),
        Algorithm::Bcrypt => Spec::bcrypt(4).unwrap(),
        v => Spec::argon2(v, 64, 1, 1).unwrap(),
    }
}

#[test]
fn hashes_of_other_implementations_verify_and_wrong_passwords_do_not() {
    let known = [
        // node-argon2 0.44 (the C reference implementation), salt "somesalt".
        (
            "password",
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        ),
        (
            "password",
            "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
        ),
        (
            "password",
            "$argon2d$v=19$m=64,t=3,p=1$c29tZXNhbHQ$cK9G1rhR1yYJ0dciV6Ap5g",
        ),
        (
            "password",
            "$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$2gcOV25Q8vOKPIl8vdxsf7QCjocJcf+erntOGHkpXm4",
        ),
        // The same without `v=`: version 0x10, as the reference implementation reads it.
        (
            "password",
            "$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$2gcOV25Q8vOKPIl8vdxsf7QCjocJcf+erntOGHkpXm4",
        ),
        // RFC 7914's second vector (checked against node's crypto.scrypt), salt "NaCl".
        (
            "password",
            "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA",
        ),
        // jBCrypt's vectors, and the bcrypt npm package's output under each prefix.
        (
            "",
            "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
        ),
        (
            "a",
            "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",
        ),
        (
            "password",
            "$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6",
        ),
        (
            "password",
            "$2y$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6",
        ),
    ];
    for (password, text) in known {
        let e = Encoded::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
        assert!(verify(&e, password.as_bytes(), NEVER).unwrap(), "{text}");
        assert!(!verify(&e, b"passwore", NEVER).unwrap(), "{text}");
    }
}

#[test]
fn every_algorithm_round_trips_in_its_format() {
    for alg in [
        Algorithm::Argon2id,
        Algorithm::Argon2i,
        Algorithm::Argon2d,
        Algorithm::Scrypt,
        Algorithm::Bcrypt,
    ] {
        let spec = small(alg);
        let text = hash("pässword".as_bytes(), &spec, NEVER).unwrap();
        let prefix = match alg {
            Algorithm::Scrypt => "$scrypt$ln=4,r=8,p=1$".to_owned(),
            Algorithm::Bcrypt => "$2b$04$".to_owned(),
            v => format!("${}$v=19$m=64,t=1,p=1$", v.name()),
        };
        assert!(text.starts_with(&prefix), "{text}");
        let e = Encoded::parse(&text).unwrap();
        assert_eq!(e.spec(), &spec);
        assert!(verify(&e, "pässword".as_bytes(), NEVER).unwrap());
        assert!(!verify(&e, "pässwort".as_bytes(), NEVER).unwrap());
        assert!(!e.needs_rehash(&spec));
        // A fresh salt each time.
        assert_ne!(hash("pässword".as_bytes(), &spec, NEVER).unwrap(), text);
    }
}

#[test]
fn needs_rehash_sees_every_parameter_the_algorithm_and_the_version() {
    let e = Encoded::parse(
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
    )
    .unwrap();
    assert!(!e.needs_rehash(&Spec::argon2(Algorithm::Argon2id, 256, 2, 1).unwrap()));
    for other in [
        Spec::argon2(Algorithm::Argon2id, 512, 2, 1),
        Spec::argon2(Algorithm::Argon2id, 256, 3, 1),
        Spec::argon2(Algorithm::Argon2id, 256, 2, 2),
        Spec::argon2(Algorithm::Argon2i, 256, 2, 1),
        Spec::scrypt(16, 8, 1),
        Spec::bcrypt(10),
    ] {
        assert!(e.needs_rehash(&other.unwrap()));
    }
    assert!(e.needs_rehash(&Spec::default_for(Algorithm::Argon2id)));
    let old = Encoded::parse(
        "$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$2gcOV25Q8vOKPIl8vdxsf7QCjocJcf+erntOGHkpXm4",
    )
    .unwrap();
    assert!(old.needs_rehash(&Spec::argon2(Algorithm::Argon2id, 256, 2, 1).unwrap()));
    let b = Encoded::parse("$2y$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6").unwrap();
    assert!(!b.needs_rehash(&Spec::bcrypt(4).unwrap()));
    assert!(b.needs_rehash(&Spec::bcrypt(5).unwrap()));
    let s = Encoded::parse("$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA").unwrap();
    assert!(!s.needs_rehash(&Spec::scrypt(1024, 8, 16).unwrap()));
    assert!(s.needs_rehash(&Spec::scrypt(1024, 8, 1).unwrap()));
    assert!(s.needs_rehash(&Spec::default_for(Algorithm::Scrypt)));
}

#[test]
fn malformed_hashes_are_described_without_being_quoted() {
    let good =
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    for bad in [
        "",
        "plain text",
        "$argon2x$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=18$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ",
        "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=9999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1,x=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$argon2id$v=19$m=256,t=2,p=1$c29t$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        "$scrypt$ln=0,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp",
        "$scrypt$ln=40,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG",
        "$scrypt$v=1$ln=10,r=8,p=1$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG",
        "$2x$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6",
        "$2b$03$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6",
        "$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc",
        "$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEG+6",
    ] {
        match Encoded::parse(bad) {
            Err(PasswordError::Malformed(why)) => {
                assert!(
                    !why.contains("nf65EOgL") && !why.contains("fs7hwf"),
                    "{why}"
                );
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(Encoded::parse(good).is_ok());
}

#[test]
fn parameters_out_of_range_name_the_option() {
    let name = |r: Result<Spec, PasswordError>| match r {
        Err(PasswordError::OutOfRange { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    let id = Algorithm::Argon2id;
    assert_eq!(name(Spec::argon2(id, 7, 2, 1)), "memoryCost");
    assert_eq!(name(Spec::argon2(id, 15, 2, 2)), "memoryCost"); // under 8 × parallelism
    assert_eq!(
        name(Spec::argon2(id, MAX_MEMORY_COST + 1, 2, 1)),
        "memoryCost"
    );
    assert_eq!(name(Spec::argon2(id, 64, 0, 1)), "timeCost");
    assert_eq!(name(Spec::argon2(id, 64, 1 << 32, 1)), "timeCost");
    assert_eq!(name(Spec::argon2(id, 64, 2, 0)), "parallelism");
    assert_eq!(name(Spec::argon2(id, 1 << 30, 2, 1 << 24)), "parallelism");
    assert!(
        Spec::argon2(
            id,
            MAX_MEMORY_COST.min(Budget::global().limit() / 1024),
            1,
            1
        )
        .is_ok()
    );
    for n in [0, 1, 3, 1000] {
        assert_eq!(name(Spec::scrypt(n, 8, 1)), "N");
    }
    assert_eq!(name(Spec::scrypt(1 << 20, 1, 1)), "N"); // N >= 2^(16 r)
    assert_eq!(name(Spec::scrypt(1 << 40, 8, 1)), "N"); // over the budget
    assert_eq!(name(Spec::scrypt(16, 0, 1)), "r");
    assert_eq!(name(Spec::scrypt(16, 8, 0)), "p");
    assert_eq!(name(Spec::scrypt(16, 8, 1 << 27)), "p"); // r × p >= 2^30
    assert_eq!(name(Spec::bcrypt(3)), "cost");
    assert_eq!(name(Spec::bcrypt(32)), "cost");
    let bcrypt = Spec::bcrypt(4).unwrap();
    assert!(bcrypt.check_password(72).is_ok());
    let long = [b'a'; 73];
    for r in [
        hash(&long, &bcrypt, NEVER).map(|_| ()),
        verify(
            &Encoded::parse("$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6")
                .unwrap(),
            &long,
            NEVER,
        )
        .map(|_| ()),
    ] {
        assert!(
            matches!(
                r,
                Err(PasswordError::OutOfRange {
                    name: "password",
                    received: 73,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    // Other algorithms read every byte.
    assert!(small(Algorithm::Argon2id).check_password(1000).is_ok());
}

#[test]
fn a_hash_whose_memory_does_not_fit_waits_for_it_and_can_be_cancelled_meanwhile() {
    // Room for one 64 KiB argon2 hash at a time.
    let budget = Arc::new(Budget::new(100 * 1024));
    let spec = small(Algorithm::Argon2id);
    let held = budget.acquire(64 * 1024, NEVER).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let (budget, done, polls, spec) =
            (budget.clone(), done.clone(), polls.clone(), spec.clone());
        std::thread::spawn(move || {
            let poll = || {
                polls.fetch_add(1, Ordering::SeqCst);
                false
            };
            let text = hash_within(&budget, b"pw", &spec, &poll).unwrap();
            done.store(true, Ordering::SeqCst);
            text
        })
    };
    // The waiter polls its cancel flag each time it wakes without room.
    while polls.load(Ordering::SeqCst) < 3 && !done.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    assert!(
        !done.load(Ordering::SeqCst),
        "64 + 64 KiB > 100 KiB: it must wait"
    );
    drop(held);
    let text = waiter.join().unwrap();
    assert!(verify_within(&budget, &Encoded::parse(&text).unwrap(), b"pw", NEVER).unwrap());

    // Cancelled while waiting: no hash, the error says so.
    let _held = budget.acquire(64 * 1024, NEVER).unwrap();
    let e = Encoded::parse(&text).unwrap();
    assert_eq!(
        verify_within(&budget, &e, b"pw", &|| true),
        Err(PasswordError::Cancelled)
    );
    assert_eq!(
        hash_within(&budget, b"pw", &spec, &|| true),
        Err(PasswordError::Cancelled)
    );
    // bcrypt needs no grant, but a cancelled task still does not start.
    assert_eq!(
        hash_within(&budget, b"pw", &small(Algorithm::Bcrypt), &|| true),
        Err(PasswordError::Cancelled)
    );
}

#[test]
fn scrypt_memory_counts_every_block_it_allocates() {
    assert_eq!(scrypt::memory(17, 8, 1), Some(1024 * ((1 << 17) + 3)));
    assert_eq!(scrypt::memory(63, 1 << 29, 1), None);
    assert_eq!(
        Spec::default_for(Algorithm::Argon2id).memory(),
        19 * 1024 * 1024
    );
}

/// argon2-rust against RustCrypto's argon2, an independent implementation: every variant and
/// version, lane counts that split segments unevenly, tags of 4 to 64 bytes, associated data,
/// and passwords and salts of assorted lengths (a fixed xorshift, so failures reproduce).
#[test]
fn argon2_matches_rustcrypto_across_parameters() {
    use ::argon2::{Algorithm as A, Argon2, AssociatedData, ParamsBuilder, Version as V};
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for case in 0..48 {
        let variant = [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d][case % 3];
        let theirs = [A::Argon2id, A::Argon2i, A::Argon2d][case % 3];
        let version = if case % 4 == 3 { V::V0x10 } else { V::V0x13 };
        let p = 1 + next(5) as u32;
        let m = 8 * p + next(300) as u32;
        let t = 1 + next(3) as u32;
        let tag_len = [4, 16, 32, 33, 64][case % 5];
        let password: Vec<u8> = (0..next(80)).map(|_| next(256) as u8).collect();
        let salt: Vec<u8> = (0..8 + next(40)).map(|_| next(256) as u8).collect();
        let ad: Vec<u8> = (0..next(3) * 11).map(|_| next(256) as u8).collect();

        let mut ours = vec![0u8; tag_len];
        let ours_version = argon2_rust::Version::from_u32(version as u32).unwrap();
        argon2::derive(
            variant,
            ours_version,
            (m, t, p),
            (&password, &salt, &ad),
            &mut ours,
        )
        .unwrap();

        let params = ParamsBuilder::new()
            .m_cost(m)
            .t_cost(t)
            .p_cost(p)
            .output_len(tag_len)
            .data(AssociatedData::new(&ad).unwrap())
            .build()
            .unwrap();
        let mut expected = vec![0u8; tag_len];
        Argon2::new(theirs, version, params)
            .hash_password_into(&password, &salt, &mut expected)
            .unwrap();
        assert_eq!(
            ours, expected,
            "case {case}: {variant:?} v{version:?} m={m} t={t} p={p} tag={tag_len}"
        );
    }
}

/// A string with `data=` and `keyid=`, written by RustCrypto's argon2, verifies: the data is
/// hashed as associated data and the key id is only a name.
#[test]
fn argon2_strings_with_data_and_keyid_verify() {
    let with_data = "$argon2id$v=19$m=64,t=1,p=1,keyid=AQID,data=c2VydmVyLTE$c29tZXNhbHQ$";
    let params = ::argon2::ParamsBuilder::new()
        .m_cost(64)
        .t_cost(1)
        .p_cost(1)
        .data(::argon2::AssociatedData::new(b"server-1").unwrap())
        .build()
        .unwrap();
    let mut tag = [0u8; 32];
    ::argon2::Argon2::new(
        ::argon2::Algorithm::Argon2id,
        ::argon2::Version::V0x13,
        params,
    )
    .hash_password_into(b"hunter2", b"somesalt", &mut tag)
    .unwrap();
    let text = format!("{with_data}{}", password_hash::Output::new(&tag).unwrap());
    let encoded = Encoded::parse(&text).unwrap();
    assert!(verify(&encoded, b"hunter2", NEVER).unwrap());
    assert!(!verify(&encoded, b"hunter3", NEVER).unwrap());
    let without_data = text.replace(",data=c2VydmVyLTE", "");
    assert!(!verify(&Encoded::parse(&without_data).unwrap(), b"hunter2", NEVER).unwrap());
}
