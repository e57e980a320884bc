//! Parquet's RLE / bit-packing hybrid encoding, for dictionary indices and
//! repetition/definition levels.
//!
//! The format (parquet-format `Encodings.md`, "Run Length Encoding / Bit-Packing
//! Hybrid"): a sequence of runs, each a ULEB128 header then either
//! - an RLE run, header `count << 1`: one value in `ceil(bit_width / 8)`
//!   little-endian bytes, repeated `count` times; or
//! - a bit-packed run, header `groups << 1 | 1`: `groups × 8` values packed
//!   LSB first, `bit_width` bits each (so exactly `groups × bit_width` bytes).
//!
//! [`encode`] takes a whole page's values at once: runs of equal values
//! become RLE runs, everything else is bit-packed eight values at a time.
//! Only the last group is padded (with zeros; readers stop at the page's
//! value count).
//!
//! It writes no length prefix or bit-width byte: the page writer adds those
//! where the format wants them.

/// Bits needed to store values up to `max` (0 for 0).
pub fn bit_width(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Appends `values` (each below `2^bit_width`, `bit_width` ≤ 32) encoded.
///
/// Values are looked at eight at a time from the start of the pending
/// bit-packed stretch, so it always holds whole groups: a group of eight
/// equal values starts an RLE run, extended as far as the value repeats.
/// (A run of 8 to 15 values that straddles two groups stays bit-packed;
/// every run of 16 or more is found.)
pub fn encode(out: &mut Vec<u8>, values: &[u32], bit_width: u8) {
    debug_assert!(bit_width <= 32);
    debug_assert!(values
        .iter()
        .all(|&v| bit_width == 32 || v >> bit_width == 0));
    let n = values.len();
    // Values from `literal` up to `i` are waiting to be bit-packed.
    let (mut literal, mut i) = (0, 0);
    while i + 8 <= n {
        let group = &values[i..i + 8];
        let v = group[0];
        if group.iter().all(|&x| x == v) {
            let mut end = i + 8;
            while end < n && values[end] == v {
                end += 1;
            }
            pack(out, &values[literal..i], bit_width);
            run(out, v, end - i, bit_width);
            literal = end;
            i = end;
        } else {
            i += 8;
        }
    }
    pack(out, &values[literal..], bit_width);
}

/// Appends one RLE run: `value` repeated `count` times.
pub fn run(out: &mut Vec<u8>, value: u32, count: usize, bit_width: u8) {
    if count == 0 {
        return;
    }
    uleb128(out, (count as u64) << 1);
    let bytes = usize::from(bit_width).div_ceil(8);
    out.extend_from_slice(&value.to_le_bytes()[..bytes]);
}

/// Appends `values` as one bit-packed run, the last group padded with zeros.
fn pack(out: &mut Vec<u8>, values: &[u32], bit_width: u8) {
    if values.is_empty() {
        return;
    }
    let groups = values.len().div_ceil(8);
    uleb128(out, ((groups as u64) << 1) | 1);
    // Room for each group's 16-byte store, cut back to its width after.
    out.reserve(groups * usize::from(bit_width) + 16);
    let mut chunks = values.chunks_exact(8);
    for group in chunks.by_ref() {
        pack8(out, group, bit_width);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u32; 8];
        last[..rest.len()].copy_from_slice(rest);
        pack8(out, &last, bit_width);
    }
}

/// Packs eight values into `bit_width` bytes.
#[inline]
fn pack8(out: &mut Vec<u8>, group: &[u32], bit_width: u8) {
    let width = u32::from(bit_width);
    if width <= 8 {
        // 8 × 8 bits fit one u64: store all 8 bytes, keep `width`.
        let mut acc = 0u64;
        for (k, &v) in group.iter().enumerate() {
            acc |= u64::from(v) << (k as u32 * width);
        }
        let len = out.len();
        out.extend_from_slice(&acc.to_le_bytes());
        out.truncate(len + width as usize);
    } else if width <= 16 {
        // 8 × 16 bits fit one u128: store all 16 bytes, keep `width`.
        let mut acc = 0u128;
        for (k, &v) in group.iter().enumerate() {
            acc |= u128::from(v) << (k as u32 * width);
        }
        let len = out.len();
        out.extend_from_slice(&acc.to_le_bytes());
        out.truncate(len + width as usize);
    } else {
        // Wider values (dictionaries of over 65,536 entries): byte by byte.
        let (mut acc, mut bits) = (0u64, 0u32);
        for &v in group {
            acc |= u64::from(v) << bits;
            bits += width;
            while bits >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                bits -= 8;
            }
        }
    }
}

/// One bit-packed run of 1-bit values (the levels of a map column), written
/// as runs of equal bits: a level per bit, 64 at a time, with no per-value
/// work.
pub struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    used: u32,
}

impl<'a> Bits<'a> {
    /// Starts a run that will hold exactly `total` values.
    pub fn new(out: &'a mut Vec<u8>, total: usize) -> Self {
        uleb128(out, ((total.div_ceil(8) as u64) << 1) | 1);
        out.reserve(total.div_ceil(8) + 8);
        Bits {
            out,
            acc: 0,
            used: 0,
        }
    }

    /// Appends `bit` `count` times.
    #[inline]
    pub fn push(&mut self, bit: bool, mut count: usize) {
        while count > 0 {
            let take = count.min((64 - self.used) as usize) as u32;
            if bit {
                let ones = if take == 64 {
                    u64::MAX
                } else {
                    (1u64 << take) - 1
                };
                self.acc |= ones << self.used;
            }
            self.used += take;
            count -= take as usize;
            if self.used == 64 {
                self.out.extend_from_slice(&self.acc.to_le_bytes());
                self.acc = 0;
                self.used = 0;
            }
        }
    }

    /// Writes the last bits, zero-padded to a whole byte (the run's last
    /// group).
    pub fn finish(self) {
        let bytes = self.used.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn uleb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A decoder written from the format's description, independent of the
    /// encoder: reads `n` values and checks nothing is left over.
    pub(crate) fn decode(mut data: &[u8], bit_width: u8, n: usize) -> Vec<u32> {
        let width = usize::from(bit_width);
        let mut out = Vec::new();
        while out.len() < n {
            let mut header = 0u64;
            let mut shift = 0;
            loop {
                let b = data[0];
                data = &data[1..];
                header |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b < 0x80 {
                    break;
                }
            }
            if header & 1 == 0 {
                let count = (header >> 1) as usize;
                let bytes = width.div_ceil(8);
                let mut v = [0u8; 4];
                v[..bytes].copy_from_slice(&data[..bytes]);
                data = &data[bytes..];
                out.extend(std::iter::repeat_n(u32::from_le_bytes(v), count));
            } else {
                let values = (header >> 1) as usize * 8;
                let bit = |i: usize| (data[i / 8] >> (i % 8)) & 1;
                for k in 0..values {
                    let mut v = 0u32;
                    for b in 0..width {
                        v |= u32::from(bit(k * width + b)) << b;
                    }
                    out.push(v);
                }
                data = &data[values * width / 8..];
            }
        }
        assert!(data.is_empty(), "{} bytes left over", data.len());
        out.truncate(n);
        out
    }

    fn roundtrip(values: &[u32], bit_width: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, values, bit_width);
        assert_eq!(decode(&out, bit_width, values.len()), values);
        out
    }

    #[test]
    fn bit_widths() {
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(2), 2);
        assert_eq!(bit_width(255), 8);
        assert_eq!(bit_width(256), 9);
    }

    #[test]
    fn long_runs_become_rle() {
        // 1000 ones: a single RLE run, header varint(2000) + one byte.
        assert_eq!(roundtrip(&[1; 1000], 1), vec![0xd0, 0x0f, 0x01]);
        // Three literals, then a run: the literals are topped up to a group
        // of eight from the run, and the rest of it is one RLE run.
        let mut v = vec![1, 2, 3];
        v.extend([5; 20]);
        let out = roundtrip(&v, 3);
        assert_eq!(out.len(), 1 + 3 + 1 + 1);
        assert_eq!(out[4..], [15 << 1, 5]);
        // Short runs stay bit-packed.
        assert_eq!(roundtrip(&[4; 7], 3).len(), 1 + 3);
    }

    #[test]
    fn mixed_runs_and_literals_roundtrip() {
        let mut v: Vec<u32> = (0..20).map(|i| i % 3).collect();
        v.extend([7; 30]);
        v.extend((0..13).map(|i| i * 2 % 9));
        v.extend([0; 9]);
        v.push(5);
        roundtrip(&v, 4);
        // More than 63 groups: a multi-byte bit-packed header.
        let long: Vec<u32> = (0..2000).map(|i| (i * 7919 % 1000) as u32).collect();
        roundtrip(&long, 10);
        assert!(roundtrip(&[], 3).is_empty());
        roundtrip(&[3], 2);
        roundtrip(&[0, 0, 0], 0);
        roundtrip(&[u32::MAX, 0, u32::MAX, 1, 2, 3, 4, 5, 6], 32);
        roundtrip(&[0x1ffff, 3, 0x10000, 9], 17);
    }

    #[test]
    fn bit_runs_decode_to_their_levels() {
        for counts in [
            vec![],
            vec![(true, 1)],
            vec![(false, 3), (true, 70), (false, 1), (true, 5)],
        ] {
            let want: Vec<u32> = counts
                .iter()
                .flat_map(|&(b, n)| std::iter::repeat_n(u32::from(b), n))
                .collect();
            let mut out = Vec::new();
            if !want.is_empty() {
                let mut bits = Bits::new(&mut out, want.len());
                for &(b, n) in &counts {
                    bits.push(b, n);
                }
                bits.finish();
            }
            assert_eq!(decode(&out, 1, want.len()), want);
        }
    }

    #[test]
    fn random_sequences_roundtrip() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let width = (next() % 33) as u8;
            let len = (next() % 700) as usize;
            let mut v = Vec::with_capacity(len);
            while v.len() < len {
                let x = if width == 0 {
                    0
                } else {
                    (next() as u32) & (u32::MAX >> (32 - u32::from(width)))
                };
                let run = if next() % 4 == 0 { next() % 40 } else { 1 } as usize;
                v.extend(std::iter::repeat_n(x, run.min(len - v.len())));
            }
            roundtrip(&v, width);
        }
    }
}
