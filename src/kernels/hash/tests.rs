use super::*;
use crate::kernels::test_util::{ALWAYS, NEVER, pipe_through, random_bytes};
use std::sync::atomic::{AtomicUsize, Ordering};

fn hex_digest(alg: HashAlgorithm, data: &[u8]) -> String {
    hex::encode(digest(alg, data, NEVER).unwrap())
}

#[test]
fn known_vectors() {
    use HashAlgorithm::*;
    let cases: [(HashAlgorithm, &[u8], &str); 14] = [
        (Sha1, b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            Sha256,
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Sha256,
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            Sha384,
            b"abc",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Sha512,
            b"abc",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            Sha3_256,
            b"abc",
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
        (
            Sha3_512,
            b"abc",
            "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
        ),
        (Md5, b"", "d41d8cd98f00b204e9800998ecf8427e"),
        (Md5, b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        (
            Blake3,
            b"",
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        ),
        (Xxh3_64, b"", "2d06800538d394c2"),
        (Xxh3_128, b"", "99aa06d3014798d86001c324468d497f"),
        (Crc32c, b"123456789", "e3069283"),
        (Crc32c, b"", "00000000"),
    ];
    for (alg, input, want) in cases {
        assert_eq!(hex_digest(alg, input), want, "{} of {input:?}", alg.name());
    }
}

#[test]
fn every_algorithm_has_its_declared_length() {
    for alg in HashAlgorithm::ALL {
        for len in [0, 1, 1000] {
            assert_eq!(
                digest(alg, &vec![7; len], NEVER).unwrap().len(),
                alg.digest_len()
            );
        }
        if alg.supports_hmac() {
            assert_eq!(
                hmac(alg, b"k", b"d", NEVER).unwrap().len(),
                alg.digest_len()
            );
        }
    }
}

/// Chunked feeding must equal one-shot hashing across chunk boundaries.
#[test]
fn chunking_matches_one_shot() {
    let data = random_bytes(3 * CHUNK + 17, 1);
    assert_eq!(
        digest(HashAlgorithm::Sha256, &data, NEVER).unwrap(),
        sha2::Sha256::digest(&data).to_vec()
    );
    assert_eq!(
        digest(HashAlgorithm::Blake3, &data, NEVER).unwrap(),
        blake3::hash(&data).as_bytes().to_vec()
    );
    let xxh = xxhash_rust::xxh3::xxh3_128(&data).to_be_bytes();
    assert_eq!(digest(HashAlgorithm::Xxh3_128, &data, NEVER).unwrap(), xxh);
    let crc = crc32c::crc32c(&data).to_be_bytes();
    assert_eq!(digest(HashAlgorithm::Crc32c, &data, NEVER).unwrap(), crc);
}

#[test]
fn hmac_rfc_vectors() {
    use HashAlgorithm::*;
    let hi = b"Hi There";
    let jefe: (&[u8], &[u8]) = (b"Jefe", b"what do ya want for nothing?");
    let mac = |alg, key: &[u8], data: &[u8]| hex::encode(hmac(alg, key, data, NEVER).unwrap());
    // RFC 4231 cases 1 and 2.
    assert_eq!(
        mac(Sha256, &[0x0b; 20], hi),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        mac(Sha256, jefe.0, jefe.1),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        mac(Sha512, &[0x0b; 20], hi),
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"
    );
    // RFC 2202.
    assert_eq!(
        mac(Md5, &[0x0b; 16], hi),
        "9294727a3638bb1c13f48ef8158bfc9d"
    );
    assert_eq!(
        mac(Sha1, jefe.0, jefe.1),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    // RFC 4231 case 6: a key longer than the block size is hashed first.
    let long = mac(
        Sha256,
        &[0xaa; 131],
        b"Test Using Larger Than Block-Size Key - Hash Key First",
    );
    assert_eq!(
        long,
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn hmac_unsupported_algorithms() {
    for alg in HashAlgorithm::ALL
        .into_iter()
        .filter(|a| !a.supports_hmac())
    {
        let err = hmac(alg, b"key", b"data", NEVER).unwrap_err();
        assert!(matches!(err, KernelError::Unsupported(_)), "{err}");
        assert_eq!(
            err.to_string(),
            format!("HMAC is not supported for {}", alg.name())
        );
    }
    let supported: Vec<_> = HashAlgorithm::ALL
        .into_iter()
        .filter(|a| a.supports_hmac())
        .map(|a| a.name())
        .collect();
    assert_eq!(
        supported,
        [
            "sha1", "sha256", "sha384", "sha512", "sha3-256", "sha3-512", "md5"
        ]
    );
}

#[test]
fn names_round_trip_and_are_case_sensitive() {
    for alg in HashAlgorithm::ALL {
        assert_eq!(alg.name().parse::<HashAlgorithm>().unwrap(), alg);
    }
    let err = "SHA256".parse::<HashAlgorithm>().unwrap_err();
    assert_eq!(err.to_string(), r#"unknown hash algorithm "SHA256""#);
    assert!("sha3_256".parse::<HashAlgorithm>().is_err());
    for enc in ["buffer", "hex", "base64", "base64url"] {
        assert!(enc.parse::<Encoding>().is_ok());
    }
    assert_eq!(
        "utf8".parse::<Encoding>().unwrap_err().to_string(),
        r#"unknown encoding "utf8""#
    );
    assert_eq!(Encoding::default(), Encoding::Buffer);
}

#[test]
fn encodings_match_node() {
    let text = |enc| match encode(vec![0xfb, 0xff, 0x01, 0x02], enc) {
        Encoded::Text(s) => s,
        Encoded::Bytes(_) => panic!("expected text"),
    };
    // Buffer.from([0xfb,0xff,1,2]).toString('hex' | 'base64' | 'base64url')
    assert_eq!(text(Encoding::Hex), "fbff0102");
    assert_eq!(text(Encoding::Base64), "+/8BAg==");
    assert_eq!(text(Encoding::Base64Url), "-_8BAg");
    assert!(matches!(encode(vec![1, 2], Encoding::Buffer), Encoded::Bytes(b) if b == [1, 2]));
}

#[test]
fn cancellation() {
    let data = random_bytes(4 * CHUNK, 2);
    for alg in HashAlgorithm::ALL {
        assert!(matches!(
            digest(alg, b"", ALWAYS),
            Err(KernelError::Cancelled)
        ));
        // Cancelled after two polls: the check must happen between chunks.
        let polls = AtomicUsize::new(0);
        let after_two = &|| polls.fetch_add(1, Ordering::Relaxed) >= 2;
        assert!(matches!(
            digest(alg, &data, after_two),
            Err(KernelError::Cancelled)
        ));
        assert_eq!(polls.load(Ordering::Relaxed), 3);
    }
    assert!(matches!(
        hmac(HashAlgorithm::Sha256, b"k", &data, ALWAYS),
        Err(KernelError::Cancelled)
    ));
}

/// Cross-check against independent implementations when they are installed; one that is
/// installed but fails or disagrees fails the test.
#[test]
fn matches_system_tools() {
    let data = random_bytes(CHUNK + 12345, 3);
    let run = |cmd: &str, args: &[&str]| -> Option<String> {
        let out = pipe_through(cmd, args, &data)?;
        let text = String::from_utf8_lossy(&out);
        Some(text.split_whitespace().next().unwrap_or("").to_owned())
    };
    let py =
        "import hashlib,sys; print(hashlib.new(sys.argv[1], sys.stdin.buffer.read()).hexdigest())";
    let checks = [
        (HashAlgorithm::Sha1, "sha1sum", vec![]),
        (HashAlgorithm::Sha256, "sha256sum", vec![]),
        (HashAlgorithm::Sha384, "sha384sum", vec![]),
        (HashAlgorithm::Sha512, "sha512sum", vec![]),
        (HashAlgorithm::Md5, "md5sum", vec![]),
        (
            HashAlgorithm::Sha3_256,
            "python3",
            vec!["-c", py, "sha3_256"],
        ),
        (
            HashAlgorithm::Sha3_512,
            "python3",
            vec!["-c", py, "sha3_512"],
        ),
    ];
    for (alg, cmd, args) in checks {
        match run(cmd, &args) {
            Some(want) => assert_eq!(hex_digest(alg, &data), want, "{} vs {cmd}", alg.name()),
            None => eprintln!("skipping {} cross-check: {cmd} not installed", alg.name()),
        }
    }
}
