//! bcrypt's raw function: EksBlowfish (Provos and Mazières, 1999) and the 64-fold encryption
//! of "OrpheanBeholderScryDoubt", giving the 23 bytes a `$2b$` hash encodes.
//!
//! How: the cipher state is four 256-word S-boxes and an 18-word P-array. The round function
//! indexes the S-boxes with the bytes of a word (`u8` indices into 256-entry arrays: no bounds
//! checks, no unsafe). bcrypt's cost is one long dependency chain of rounds (each encryption's
//! output is stored into the S-boxes the next one reads), so its speed is that chain's latency:
//! index, load, add, xor, add, and the xor into the other half. Each round key must be xored
//! into the other half while F is computed, not after it; LLVM does so only when it sees the
//! P-array's words as loop-invariant values, so the S-box loops (512 of each expansion's 521
//! encryptions, where P no longer changes) run on a local copy of P (see `State::expand`). The
//! key and salt are turned once into the words the key schedule cycles through, rather than
//! byte by byte on each of the 2^(cost+1) expansions.
//!
//! Guarantees: the output is bcrypt's (held to jBCrypt's and OpenBSD's C outputs and to the
//! `bcrypt` crate by tests); the key copy, its words, the cipher state and the P-array copies
//! are zeroized when dropped, on every path out (what the compiler leaves in registers or spill
//! slots is beyond reach, as it is for the C implementations).

use zeroize::{Zeroize, Zeroizing};

mod pi;
#[cfg(test)]
mod tests;

/// Longest key bcrypt reads: 72 bytes (a password of up to 71 bytes and its NUL).
const MAX_KEY: usize = 72;

/// The cipher state: S-boxes and P-array, wiped when dropped.
struct State {
    s: [[u32; 256]; 4],
    p: [u32; 18],
}

impl Drop for State {
    fn drop(&mut self) {
        self.s.zeroize();
        self.p.zeroize();
    }
}

impl State {
    /// Blowfish's F: ((S0[a] + S1[b]) ^ S2[c]) + S3[d] over the bytes a..d of `x`, big end first.
    /// Bytes by shifts, not `to_be_bytes`: LLVM makes that a `bswap`, one more step on the
    /// chain (58.0 ms against 54.4 at cost 10, measured).
    #[inline(always)]
    fn f(&self, x: u32) -> u32 {
        let s = &self.s;
        (s[0][(x >> 24) as usize].wrapping_add(s[1][usize::from((x >> 16) as u8)])
            ^ s[2][usize::from((x >> 8) as u8)])
        .wrapping_add(s[3][usize::from(x as u8)])
    }

    /// One Blowfish block encryption, halves as words, under P-array `p` (`self.p`, or the
    /// copy the S-box loops hold: see `expand`).
    #[inline(always)]
    fn encrypt(&self, p: &[u32; 18], l: u32, r: u32) -> (u32, u32) {
        let mut l = l ^ p[0];
        let mut r = r;
        for i in 0..8 {
            r = (r ^ p[2 * i + 1]) ^ self.f(l);
            l = (l ^ p[2 * i + 2]) ^ self.f(r);
        }
        (r ^ p[17], l)
    }

    /// ExpandKey(state, 0, key): xor the key words into P, then refill P and the S-boxes with
    /// the chained encryption of a zero block. The S-box loop encrypts under a copy of P: a
    /// separate array that the stores into S cannot alias, so its words are loop-invariant and
    /// LLVM folds each round key into the other half off the dependency chain (under `self.p`
    /// it folds it into F's result, one more step on the chain per round: 9% slower at cost
    /// 10, measured).
    #[inline(always)]
    fn expand(&mut self, key: &[u32; 18]) {
        for (p, k) in self.p.iter_mut().zip(key) {
            *p ^= k;
        }
        let (mut l, mut r) = (0, 0);
        for i in 0..9 {
            (l, r) = self.encrypt(&self.p, l, r);
            self.p[2 * i] = l;
            self.p[2 * i + 1] = r;
        }
        let p = Zeroizing::new(self.p);
        for b in 0..4 {
            for i in 0..128 {
                (l, r) = self.encrypt(&p, l, r);
                self.s[b][2 * i] = l;
                self.s[b][2 * i + 1] = r;
            }
        }
    }

    /// ExpandKey(state, salt, key): as `expand` (P copied likewise), but the salt's words,
    /// cycled, are xored into the block before each encryption. 16 bytes are 4 words, two blocks: the P-array's 9
    /// blocks start on the first half of the salt, so each S-box's (an even count after them)
    /// starts on the second.
    fn expand_salted(&mut self, key: &[u32; 18], salt: &[u32; 4]) {
        for (p, k) in self.p.iter_mut().zip(key) {
            *p ^= k;
        }
        let (mut l, mut r) = (0, 0);
        for i in 0..9 {
            let h = 2 * (i % 2);
            (l, r) = self.encrypt(&self.p, l ^ salt[h], r ^ salt[h + 1]);
            self.p[2 * i] = l;
            self.p[2 * i + 1] = r;
        }
        let p = Zeroizing::new(self.p);
        for b in 0..4 {
            for i in 0..128 {
                let h = 2 - 2 * (i % 2);
                (l, r) = self.encrypt(&p, l ^ salt[h], r ^ salt[h + 1]);
                self.s[b][2 * i] = l;
                self.s[b][2 * i + 1] = r;
            }
        }
    }
}

/// The `N` words the key schedule reads: `bytes` big-endian, cycled as often as it takes (18
/// words are a 72-byte key exactly once).
fn words<const N: usize>(bytes: &[u8]) -> Zeroizing<[u32; N]> {
    let mut out = Zeroizing::new([0u32; N]);
    let mut cycle = bytes.iter().cycle();
    for w in out.iter_mut() {
        for _ in 0..4 {
            // `bytes` is never empty (a key holds at least its NUL; a salt is 16 bytes).
            *w = (*w << 8) | u32::from(*cycle.next().unwrap_or(&0));
        }
    }
    out
}

/// bcrypt(cost, salt, password): the first 23 of the 24 bytes bcrypt computes (the last is
/// never encoded). `password` is at most 72 bytes (checked before); its bytes and a NUL are
/// the key, the NUL dropped when there is no room for it.
/// `cancelled` is polled every 64 rounds of the cost loop (about 3 ms), so a large cost can
/// be stopped: `None` then.
pub(super) fn bcrypt(
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    cancelled: &dyn Fn() -> bool,
) -> Option<[u8; 23]> {
    debug_assert!(password.len() <= MAX_KEY && cost < 32);
    let mut key = Zeroizing::new([0u8; MAX_KEY]);
    let n = password.len().min(MAX_KEY);
    key[..n].copy_from_slice(&password[..n]);
    let key_words = words::<18>(&key[..(n + 1).min(MAX_KEY)]);
    let salt_words = words::<4>(salt);
    let salt_key = words::<18>(salt);

    let mut state = State { s: pi::S, p: pi::P };
    state.expand_salted(&key_words, &salt_words);
    for round in 0..1u64 << cost {
        if round % 64 == 0 && cancelled() {
            return None;
        }
        state.expand(&key_words);
        state.expand(&salt_key);
    }

    // "OrpheanBeholderScryDoubt": three independent blocks, each encrypted 64 times; run side
    // by side, their chains overlap.
    let mut text = [
        0x4f72_7068,
        0x6561_6e42,
        0x6568_6f6c,
        0x6465_7253,
        0x6372_7944,
        0x6f75_6274,
    ];
    for _ in 0..64 {
        for block in text.chunks_exact_mut(2) {
            (block[0], block[1]) = state.encrypt(&state.p, block[0], block[1]);
        }
    }
    let mut out = [0u8; 23];
    for (chunk, word) in out.chunks_mut(4).zip(text) {
        chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
    }
    Some(out)
}
