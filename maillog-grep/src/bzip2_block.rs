//! One bzip2 block decoded by us, faster than libbz2 per core.
//!
//! Profiled on the generated maillog (issue 24), libbz2-rs spends two
//! thirds of its time walking the inverse Burrows-Wheeler transform, one
//! dependent memory load per output byte, and most of the rest reading
//! Huffman codes a bit at a time.  Here the codes are read through a
//! 10-bit lookup table, and the walk runs from both ends of the block at
//! once (forward along the T vector, backward along the LF mapping): two
//! independent chains of loads, so the memory latency of one hides behind
//! the other's.
//!
//! This decoder only ever answers for blocks it decodes completely: every
//! check libbz2 makes, a CRC that matches, and the stream end marker
//! exactly where the piece ends.  Anything else (a damaged block, a
//! randomised one from bzip2 0.9.0, a piece cut by a false marker) gives
//! `None`, and the caller asks libbz2, whose answer then stands; so errors
//! and their kinds stay libbz2's.

use std::cell::RefCell;

/// The block magic (the digits of pi).
pub const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// The end-of-stream magic (the digits of sqrt(pi)).
pub const END_MAGIC: u64 = 0x1772_4538_5090;

/// Codes up to this many bits are read with one table look-up.
const TABLE_BITS: u32 = 10;
const MAX_CODE_LEN: u32 = 20;
const MAX_GROUPS: usize = 6;
const MAX_ALPHA: usize = 258;
/// libbz2 1.0.8 reads more selectors but keeps this many.
const MAX_SELECTORS: usize = 18002;
const GROUP_SIZE: u32 = 50;
/// A framed piece says level 9 (see `bzip2_blocks::framed`).
const MAX_BLOCK: usize = 900_000;

/// Most-significant-bit-first reader; past the end it reads zeros and
/// counts them, so a block that needs them is refused.
struct Bits<'a> {
    data: &'a [u8],
    next_byte: usize,
    buf: u64,
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], bit: usize) -> Bits<'a> {
        let mut bits = Bits {
            data,
            next_byte: bit / 8,
            buf: 0,
            count: 0,
        };
        bits.refill();
        bits.consume(bit as u32 % 8);
        bits
    }

    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.next_byte..self.next_byte + 8) {
            let word = u64::from_be_bytes(word.try_into().expect("8 bytes"));
            self.buf |= word >> self.count;
            let take = (63 - self.count) / 8;
            self.next_byte += take as usize;
            self.count += take * 8;
            return;
        }
        while self.count <= 56 {
            let byte = self.data.get(self.next_byte).copied().unwrap_or(0);
            self.buf |= u64::from(byte) << (56 - self.count);
            self.next_byte += 1;
            self.count += 8;
        }
    }

    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.refill();
        }
        (self.buf >> (64 - n)) as u32
    }

    fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    fn get(&mut self, n: u32) -> u32 {
        let value = self.peek(n);
        self.consume(n);
        value
    }

    fn bit(&mut self) -> bool {
        self.get(1) == 1
    }

    /// Bits read so far, from the start of `data`.
    fn position(&self) -> usize {
        self.next_byte * 8 - self.count as usize
    }
}

/// One Huffman table: short codes by look-up, long ones canonically.
struct Table {
    /// `symbol << 5 | length`, or 0 for a code longer than TABLE_BITS.
    short: Vec<u16>,
    /// For each length: the first code, its index in `sorted`, and how
    /// many codes have that length.
    first_code: [u32; MAX_CODE_LEN as usize + 1],
    first_index: [u32; MAX_CODE_LEN as usize + 1],
    counts: [u32; MAX_CODE_LEN as usize + 1],
    sorted: Vec<u16>,
}

impl Table {
    /// None for an over-full code (libbz2 would read it differently).
    fn new(lengths: &[u8]) -> Option<Table> {
        let mut counts = [0u32; MAX_CODE_LEN as usize + 1];
        for &len in lengths {
            counts[usize::from(len)] += 1;
        }
        let mut kraft = 0u64;
        for (len, &n) in counts.iter().enumerate().skip(1) {
            kraft += u64::from(n) << (MAX_CODE_LEN as usize - len);
        }
        if kraft > 1 << MAX_CODE_LEN {
            return None;
        }
        let mut table = Table {
            short: vec![0; 1 << TABLE_BITS],
            first_code: [0; MAX_CODE_LEN as usize + 1],
            first_index: [0; MAX_CODE_LEN as usize + 1],
            counts,
            sorted: Vec::with_capacity(lengths.len()),
        };
        let mut code = 0u32;
        for len in 1..=MAX_CODE_LEN {
            table.first_code[len as usize] = code;
            table.first_index[len as usize] = table.sorted.len() as u32;
            for (symbol, _) in lengths
                .iter()
                .enumerate()
                .filter(|(_, l)| u32::from(**l) == len)
            {
                table.sorted.push(symbol as u16);
                if len <= TABLE_BITS {
                    let from = (code << (TABLE_BITS - len)) as usize;
                    let entry = (symbol as u16) << 5 | len as u16;
                    table.short[from..from + (1 << (TABLE_BITS - len))].fill(entry);
                }
                code += 1;
            }
            code <<= 1;
        }
        Some(table)
    }

    fn decode(&self, bits: &mut Bits) -> Option<u16> {
        let entry = self.short[bits.peek(TABLE_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry & 31));
            return Some(entry >> 5);
        }
        let code = bits.peek(MAX_CODE_LEN);
        for len in TABLE_BITS + 1..=MAX_CODE_LEN {
            let prefix = code >> (MAX_CODE_LEN - len);
            let offset = prefix.wrapping_sub(self.first_code[len as usize]);
            if offset < self.counts[len as usize] {
                bits.consume(len);
                let at = self.first_index[len as usize] + offset;
                return Some(self.sorted[at as usize]);
            }
        }
        None
    }
}

/// Reusable per-thread memory: a block needs about 9 MB of it.
#[derive(Default)]
struct Scratch {
    last_column: Vec<u8>,
    /// The two walks' tables, on huge pages where the system gives them.
    walks: Option<WalkTables>,
    text: Vec<u8>,
}

/// The T vector and the LF mapping, `index << 8 | byte` in 4 bytes each.
/// Their random reads are the decoder's cost; with 4 KiB pages each one
/// also misses the TLB, with 2 MiB pages (asked for with madvise, as
/// Linux gives anonymous memory huge pages only when asked) it does not.
struct WalkTables {
    map: memmap2::MmapMut,
    /// Where the forward table begins (2 MiB aligned); the backward one
    /// begins `HALF` bytes later.
    start: usize,
}

const HUGE_PAGE: usize = 2 * 1024 * 1024;
/// Room for one table of MAX_BLOCK entries, in whole huge pages.
const HALF: usize = (MAX_BLOCK * 4).div_ceil(HUGE_PAGE) * HUGE_PAGE;

impl WalkTables {
    fn new() -> Option<WalkTables> {
        let map = memmap2::MmapMut::map_anon(2 * HALF + HUGE_PAGE).ok()?;
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        let address = map.as_ptr() as usize;
        let start = address.next_multiple_of(HUGE_PAGE) - address;
        Some(WalkTables { map, start })
    }

    fn tables(&mut self, n: usize) -> (&mut [u8], &mut [u8]) {
        let both = &mut self.map[self.start..self.start + 2 * HALF];
        let (forward, backward) = both.split_at_mut(HALF);
        (&mut forward[..4 * n], &mut backward[..4 * n])
    }
}

fn load(table: &[u8], at: u32) -> u32 {
    let at = at as usize * 4;
    u32::from_ne_bytes(table[at..at + 4].try_into().expect("4 bytes"))
}

fn store(table: &mut [u8], at: usize, value: u32) {
    table[at * 4..at * 4 + 4].copy_from_slice(&value.to_ne_bytes());
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// What decoding a framed one-block stream gave.
pub enum Decoded {
    Text(Vec<u8>),
    /// A valid start, but its output passes `max_output`.
    TooBig,
}

/// Decodes a piece framed by `bzip2_blocks::framed` (`BZh9`, one block,
/// the end marker with the block's CRC).  `None`: ask libbz2.
pub fn decode_framed(framed: &[u8], max_output: usize) -> Option<Decoded> {
    SCRATCH.with(|scratch| decode_with(framed, max_output, &mut scratch.borrow_mut()))
}

fn decode_with(framed: &[u8], max_output: usize, scratch: &mut Scratch) -> Option<Decoded> {
    let mut bits = Bits::new(framed, 32);
    if u64::from(bits.get(24)) << 24 | u64::from(bits.get(24)) != BLOCK_MAGIC {
        return None;
    }
    let crc = bits.get(32);
    if bits.bit() {
        return None; // randomised (bzip2 0.9.0): libbz2's
    }
    let orig_ptr = bits.get(24) as usize;
    let symbols = read_symbols(&mut bits, &mut scratch.last_column)?;
    let n = scratch.last_column.len();
    if orig_ptr >= n {
        return None;
    }
    let end = u64::from(bits.get(24)) << 24 | u64::from(bits.get(24));
    if end != END_MAGIC || bits.get(32) != crc || bits.position().div_ceil(8) != framed.len() {
        return None;
    }
    inverse_bwt(scratch, orig_ptr, &symbols)?;
    let text = match undo_runs(&scratch.text, max_output)? {
        Some(text) => text,
        None => return Some(Decoded::TooBig),
    };
    (block_crc(&text) == crc).then_some(Decoded::Text(text))
}

/// The symbol maps, tables and selectors, then the Huffman codes, undoing
/// the move-to-front and zero-run coding: the BWT's last column into
/// `last_column`, and how many of each byte it holds.
fn read_symbols(bits: &mut Bits, last_column: &mut Vec<u8>) -> Option<[u32; 256]> {
    let used_groups = bits.get(16);
    let mut alphabet = Vec::with_capacity(256);
    for group in 0..16u32 {
        if used_groups & (0x8000 >> group) != 0 {
            let used = bits.get(16);
            for i in 0..16u32 {
                if used & (0x8000 >> i) != 0 {
                    alphabet.push((group * 16 + i) as u8);
                }
            }
        }
    }
    if alphabet.is_empty() {
        return None;
    }
    let alpha_size = alphabet.len() + 2;
    let groups = bits.get(3) as usize;
    if !(2..=MAX_GROUPS).contains(&groups) {
        return None;
    }
    let selectors = read_selectors(bits, groups)?;
    let mut tables = Vec::with_capacity(groups);
    for _ in 0..groups {
        let mut lengths = [0u8; MAX_ALPHA];
        let mut len = bits.get(5);
        for slot in &mut lengths[..alpha_size] {
            loop {
                if !(1..=MAX_CODE_LEN).contains(&len) {
                    return None;
                }
                if !bits.bit() {
                    break;
                }
                if bits.bit() {
                    len -= 1;
                } else {
                    len += 1;
                }
            }
            *slot = len as u8;
        }
        tables.push(Table::new(&lengths[..alpha_size])?);
    }
    decode_symbols(bits, &tables, &selectors, alphabet, last_column)
}

fn read_selectors(bits: &mut Bits, groups: usize) -> Option<Vec<u8>> {
    let count = bits.get(15) as usize;
    if count == 0 {
        return None;
    }
    let mut order: Vec<u8> = (0..groups as u8).collect();
    let mut selectors = Vec::with_capacity(count.min(MAX_SELECTORS));
    for i in 0..count {
        let mut j = 0;
        while bits.bit() {
            j += 1;
            if j >= groups {
                return None;
            }
        }
        if i < MAX_SELECTORS {
            let table = order[j];
            order.copy_within(0..j, 1);
            order[0] = table;
            selectors.push(table);
        }
    }
    Some(selectors)
}

fn decode_symbols(
    bits: &mut Bits,
    tables: &[Table],
    selectors: &[u8],
    alphabet: Vec<u8>,
    last_column: &mut Vec<u8>,
) -> Option<[u32; 256]> {
    let end_of_block = alphabet.len() as u16 + 1;
    let mut front = alphabet;
    let mut counts = [0u32; 256];
    last_column.clear();
    let mut run = 0usize;
    let mut run_weight = 1usize;
    let mut selector = 0;
    let mut left_in_group = 0;
    loop {
        if left_in_group == 0 {
            if selector >= selectors.len() {
                return None;
            }
            left_in_group = GROUP_SIZE;
            selector += 1;
        }
        left_in_group -= 1;
        let table = &tables[usize::from(selectors[selector - 1])];
        let symbol = table.decode(bits)?;
        if symbol <= 1 {
            // RUNA, RUNB: a run of the front byte, its length in bijective
            // base 2.
            if run_weight >= 2 * 1024 * 1024 {
                return None; // as libbz2: the length would overflow
            }
            run += run_weight << symbol;
            run_weight <<= 1;
            continue;
        }
        if run > 0 {
            if last_column.len() + run > MAX_BLOCK {
                return None;
            }
            counts[usize::from(front[0])] += run as u32;
            last_column.resize(last_column.len() + run, front[0]);
            run = 0;
            run_weight = 1;
        }
        if symbol == end_of_block {
            return Some(counts);
        }
        if last_column.len() >= MAX_BLOCK {
            return None;
        }
        let at = usize::from(symbol - 1);
        let byte = front[at];
        front.copy_within(0..at, 1);
        front[0] = byte;
        counts[usize::from(byte)] += 1;
        last_column.push(byte);
    }
}

/// The block's text before its run-length step, into `scratch.text`:
/// the first half walked forward from `orig_ptr`, the second backward
/// from it, interleaved.
fn inverse_bwt(scratch: &mut Scratch, orig_ptr: usize, counts: &[u32; 256]) -> Option<()> {
    let Scratch {
        last_column,
        walks,
        text,
    } = scratch;
    if walks.is_none() {
        *walks = Some(WalkTables::new()?);
    }
    let n = last_column.len();
    let (forward, backward) = walks.as_mut()?.tables(n);
    let mut next = [0u32; 256];
    let mut sum = 0;
    for (slot, &count) in next.iter_mut().zip(counts) {
        *slot = sum;
        sum += count;
    }
    for (i, &byte) in last_column.iter().enumerate() {
        let row = next[usize::from(byte)] as usize;
        next[usize::from(byte)] += 1;
        store(backward, i, (row as u32) << 8 | u32::from(byte));
        // The byte from the smaller last column: a plain store, no read
        // of the 4-byte entry.
        store(forward, row, (i as u32) << 8 | u32::from(last_column[row]));
    }
    text.clear();
    text.resize(n, 0);
    let half = n / 2;
    let mut ahead = load(forward, orig_ptr as u32) >> 8;
    let mut behind = orig_ptr as u32;
    let (front_half, back_half) = text.split_at_mut(half);
    for (out_front, out_back) in front_half.iter_mut().zip(back_half.iter_mut().rev()) {
        let f = load(forward, ahead);
        let b = load(backward, behind);
        *out_front = f as u8;
        *out_back = b as u8;
        ahead = f >> 8;
        behind = b >> 8;
    }
    if n % 2 == 1 {
        // The middle byte, from the backward walk.
        let b = load(backward, behind);
        back_half[0] = b as u8;
        behind = b >> 8;
    }
    // The two walks meet: one cycle through the whole block.
    (load(forward, behind) >> 8 == ahead).then_some(())
}

/// Undoes bzip2's first step: four equal bytes and a count of more.
/// `None` where libbz2 fails (a run of four with no count); `Some(None)`
/// past `max_output`.
fn undo_runs(text: &[u8], max_output: usize) -> Option<Option<Vec<u8>>> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        if i + 3 < text.len() && text[i + 1] == byte && text[i + 2] == byte && text[i + 3] == byte {
            let count = usize::from(*text.get(i + 4)?);
            out.resize(out.len() + 4 + count, byte);
            i += 5;
            if out.len() > max_output {
                return Some(None);
            }
        } else {
            out.push(byte);
            i += 1;
        }
    }
    if out.len() > max_output {
        return Some(None);
    }
    Some(Some(out))
}

/// bzip2's CRC-32 (most significant bit first), four bytes at a time.
fn block_crc(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let word = crc ^ u32::from_be_bytes(chunk.try_into().expect("4 bytes"));
        crc = CRC_TABLES[3][(word >> 24) as usize]
            ^ CRC_TABLES[2][(word >> 16 & 0xff) as usize]
            ^ CRC_TABLES[1][(word >> 8 & 0xff) as usize]
            ^ CRC_TABLES[0][(word & 0xff) as usize];
    }
    for &byte in chunks.remainder() {
        crc = crc << 8 ^ CRC_TABLES[0][((crc >> 24) ^ u32::from(byte)) as usize];
    }
    !crc
}

/// `CRC_TABLES[k][b]`: the CRC step of byte `b` followed by `k` zero bytes.
const CRC_TABLES: [[u32; 256]; 4] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 4] {
    let mut tables = [[0u32; 256]; 4];
    let mut b = 0;
    while b < 256 {
        let mut crc = (b as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                crc << 1 ^ 0x04c1_1db7
            } else {
                crc << 1
            };
            bit += 1;
        }
        tables[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 4 {
        let mut b = 0;
        while b < 256 {
            let prev = tables[k - 1][b];
            tables[k][b] = prev << 8 ^ tables[0][(prev >> 24) as usize];
            b += 1;
        }
        k += 1;
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzip2_blocks::tests::compress;
    use crate::bzip2_blocks::{MarkerFinder, MarkerKind, framed};

    /// Each block of `data` compressed, framed, decoded by us: the text.
    fn round_trip(data: &[u8], level: u32) {
        let bytes = compress(data, level);
        let mut markers = Vec::new();
        MarkerFinder::new().find(&bytes, 0, 0, true, &mut markers);
        let mut out = Vec::new();
        for pair in markers.windows(2) {
            if pair[0].kind != MarkerKind::Block {
                continue;
            }
            let from = (pair[0].bit / 8) as usize;
            let piece = framed(
                &bytes[from..],
                pair[0].bit % 8,
                pair[1].bit - from as u64 * 8,
                pair[0].crc,
            );
            match decode_framed(&piece, usize::MAX) {
                Some(Decoded::Text(text)) => out.extend(text),
                _ => panic!("block at bit {} not decoded", pair[0].bit),
            }
        }
        assert!(
            out == data,
            "level {level}: {} of {} bytes",
            out.len(),
            data.len()
        );
    }

    #[test]
    fn blocks_decode_as_libbz2_wrote_them() {
        let text: Vec<u8> = (0..120_000u32)
            .flat_map(|n| {
                format!("{n} Sep 21 host dovecot: line {}\n", n * 7919 % 10007).into_bytes()
            })
            .collect();
        round_trip(&text, 1);
        round_trip(&text, 9);
        round_trip(b"a", 1);
        round_trip(b"aaaa", 1);
        round_trip(&[b'x'; 1000], 1);
        let mut noise = 1u32;
        let random: Vec<u8> = (0..300_000)
            .map(|_| {
                noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (noise >> 24) as u8
            })
            .collect();
        round_trip(&random, 2);
    }

    #[test]
    fn the_crc_is_bzip2s() {
        // `printf 123456789 | bzip2` stores the CRC-32/BZIP2 check value.
        assert_eq!(block_crc(b"123456789"), 0xfc89_1918);
    }
}
