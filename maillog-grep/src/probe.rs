//! The default mode's search: the first place where one of
//! [`BACKWARD_PROBES`] matches, at memory speed.
//!
//! A general multi-literal searcher (Teddy, over the anchors of `--all`)
//! spends about twice as long per byte as a single-literal one (0.079 s/GiB
//! against 0.037–0.045 here), and that is the whole cost of a search of a
//! cached log.  Two probes of three bytes can be checked with a few vector
//! compares per byte instead: the block loop below is plain Rust that the
//! compiler turns into SIMD code, built a second time for AVX2 and picked at
//! run time when the CPU has it.
//!
//! The one `unsafe` here is that call: a function compiled for AVX2 may only
//! run on a CPU that has it, which is checked right before.
#![allow(unsafe_code)]

use crate::event::{BACKWARD_PROBES, Probe};

/// Bytes checked per step of the block loop.
const BLOCK: usize = 64;
/// How far a probe reaches past the byte it starts at.
const REACH: usize = 2;

/// The first position at or after `from` where a probe matches whole inside
/// `haystack`.
pub fn find(haystack: &[u8], from: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: `find_avx2` is `find_blocks` compiled for AVX2, and
            // this CPU has AVX2 (checked just above).  It has no other
            // requirement.
            return unsafe { find_avx2(haystack, from) };
        }
    }
    find_blocks(haystack, from)
}

/// The definition `find` must agree with, one position at a time.
pub fn find_slow(haystack: &[u8], from: usize) -> Option<usize> {
    (from..haystack.len()).find(|&at| matches_at(haystack, at))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn find_avx2(haystack: &[u8], from: usize) -> Option<usize> {
    find_blocks(haystack, from)
}

/// Whole blocks first (a block with a match is then looked at byte by
/// byte: matches are rare), the last bytes one at a time.
#[inline(always)]
fn find_blocks(haystack: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(window) = haystack.get(at..at + BLOCK + REACH) {
        let window: &[u8; BLOCK + REACH] = window.try_into().expect("the slice has this length");
        if block_has_match(window)
            && let Some(found) = (at..at + BLOCK).find(|&p| matches_at(haystack, p))
        {
            return Some(found);
        }
        at += BLOCK;
    }
    find_slow(haystack, at.min(haystack.len()))
}

/// True when a probe starts at one of the block's first `BLOCK` bytes.
/// Branch-free over the block, so that it vectorizes; the three shifted
/// views become three unaligned loads (13% faster than letting the compiler
/// shift one load).
#[inline(always)]
fn block_has_match(window: &[u8; BLOCK + REACH]) -> bool {
    let view = |shift: usize| -> &[u8; BLOCK] {
        window[shift..shift + BLOCK]
            .try_into()
            .expect("the window holds the block and its reach")
    };
    let (first, second, third) = (view(0), view(1), view(2));
    let mut any = false;
    for i in 0..BLOCK {
        for probe in &BACKWARD_PROBES {
            any |= probe_at(probe, first[i], second[i], third[i]);
        }
    }
    any
}

#[inline(always)]
fn probe_at(probe: &Probe, a: u8, b: u8, c: u8) -> bool {
    let within = |byte: u8, (low, high): (u8, u8)| byte.wrapping_sub(low) <= high - low;
    within(a, probe[0]) & within(b, probe[1]) & within(c, probe[2])
}

fn matches_at(haystack: &[u8], at: usize) -> bool {
    match haystack.get(at..at + REACH + 1) {
        Some(&[a, b, c]) => BACKWARD_PROBES.iter().any(|p| probe_at(p, a, b, c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_each_probe_and_nothing_else() {
        assert_eq!(find(b"moved backwards by 3", 0), Some(9));
        assert_eq!(find(b"time reset -0.5 s", 0), Some(10));
        assert_eq!(find(b"offset -.5", 0), Some(6));
        assert_eq!(find(b"time reset +0.5 s; - x; x-1; kw", 0), None);
        assert_eq!(find(b"", 0), None);
        assert_eq!(find(b"kwa", 1), None);
    }

    #[test]
    fn matches_across_and_at_the_edges_of_blocks() {
        for len in [3, 63, 64, 65, 66, 67, 130, 200] {
            for at in 0..=len - 3 {
                let mut hay = vec![b'x'; len];
                hay[at..at + 3].copy_from_slice(b" -7");
                assert_eq!(find(&hay, 0), Some(at), "len {len} at {at}");
                assert_eq!(find(&hay, at), Some(at), "len {len} at {at}");
                assert_eq!(find(&hay, at + 1), None, "len {len} at {at}");
            }
        }
    }

    proptest! {
        // Bytes from the probes' alphabet, so that matches and near misses
        // are common.
        #[test]
        fn agrees_with_the_definition(
            hay in proptest::collection::vec(
                prop::sample::select(b" -.09/kwaxK\n\0\xff".to_vec()), 0..400),
            from in 0usize..400,
        ) {
            let from = from.min(hay.len());
            prop_assert_eq!(find(&hay, from), find_slow(&hay, from));
            prop_assert_eq!(find_blocks(&hay, from), find_slow(&hay, from));
        }
    }
}
