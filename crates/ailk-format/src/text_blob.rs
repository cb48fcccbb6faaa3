//! Version 2 of the inverted-index blob (`AITX` 2, kind 7 of format 1.2; `docs/format.md` §4):
//! built so that a search reads only what a query needs, with ranged reads.
//!
//! ```text
//! "AITX" 2 | row lengths | postings (per term: rows stream, positions stream) |
//! dictionary (blocks of up to 64 terms) | head | u32 head length, u32 head CRC, "AITX"
//! ```
//!
//! A reader takes the 12-byte trailer and the head from the blob's end ([`TextHead`]: row
//! count, total length, where the row lengths lie, and per dictionary block its first term,
//! byte range and CRC), then the one dictionary block that may hold each query term
//! ([`TermEntry`]: document frequency, byte ranges and CRCs of its streams), then the terms'
//! rows streams (row, frequency, row length) and, for phrases, their positions. Every piece
//! carries its CRC-32C and is checked on its own, so a partial read never trusts bytes no
//! check covered.

use std::ops::Range;
use std::sync::Arc;

use crate::error::Result;
use crate::text_index::{
    corrupt, decode_v1, put, put_positions, read_positions, Posting, Reader, TextIndex, MAGIC,
    MAX_TERM_BYTES, VERSION_1,
};

/// The blob version this module writes and reads.
const VERSION: u8 = 2;
/// Terms per dictionary block the writer puts (readers accept up to [`MAX_BLOCK_TERMS`]).
pub const TERMS_PER_BLOCK: usize = 64;
/// Most terms one dictionary block may hold.
pub const MAX_BLOCK_TERMS: u64 = 4096;
/// Bytes of the fixed trailer ending a version 2 blob.
pub const TEXT_TRAILER_BYTES: u64 = 12;
/// Where the row lengths start (after the magic and version).
const BODY_START: u64 = 5;
/// Longest term length a decoder accepts (a term is cut to 64 bytes by the analyzers).
const MAX_TERM_FIELD: u64 = MAX_TERM_BYTES as u64 * 4;
/// A term whose two streams together take at most this many bytes has them in its
/// dictionary entry (covered by the block's CRC) instead of the postings region.
pub const INLINE_POSTING_BYTES: u64 = 64;

/// One dictionary block as the head locates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermBlockRef {
    /// Its first (smallest) term.
    pub first: String,
    /// Terms it holds.
    pub terms: u32,
    /// Its bytes, relative to the blob's start.
    pub range: Range<u64>,
    /// Where its first term's rows stream starts, relative to the blob's start.
    pub postings_start: u64,
    /// CRC-32C of its bytes.
    pub crc: u32,
}

/// The head of a version 2 blob: the file's text statistics and the dictionary's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextHead {
    /// Rows of the file.
    pub rows: u32,
    /// Terms in all rows.
    pub total_len: u64,
    /// Distinct terms.
    pub term_count: u64,
    /// The row lengths' bytes, relative to the blob's start.
    pub doc_lens: Range<u64>,
    doc_lens_crc: u32,
    /// Where the postings end and the dictionary starts, relative to the blob's start.
    pub dictionary_start: u64,
    /// The dictionary blocks, in term order.
    pub blocks: Vec<TermBlockRef>,
}

/// One term of a dictionary block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermEntry {
    /// The term.
    pub term: String,
    /// Rows holding it.
    pub df: u32,
    /// Its rows stream, relative to the blob's start (empty when inline).
    pub rows: Range<u64>,
    /// Its positions stream (right after the rows stream; empty when inline).
    pub positions: Range<u64>,
    rows_crc: u32,
    positions_crc: u32,
    /// The postings (with positions) of a term whose streams are stored in its block.
    pub inline: Option<Arc<[Posting]>>,
}

/// Where the head of a `blob_len`-byte version 2 blob lies (relative to the blob's start) and
/// its CRC, from the blob's last [`TEXT_TRAILER_BYTES`] bytes.
pub fn parse_trailer(trailer: &[u8], blob_len: u64) -> Result<(Range<u64>, u32)> {
    let mut c = Reader::new(trailer);
    let (head_len, crc) = (u64::from(c.u32()?), c.u32()?);
    if c.take(4)? != MAGIC || c.left() != 0 {
        return Err(corrupt("bad trailer"));
    }
    let end = blob_len.checked_sub(TEXT_TRAILER_BYTES).ok_or_else(|| corrupt("blob too short"))?;
    if head_len + BODY_START > end {
        return Err(corrupt("the head does not fit the blob"));
    }
    Ok((end - head_len..end, crc))
}

impl TextHead {
    /// Decodes and checks the head bytes at `range` (from [`parse_trailer`], with its `crc`).
    pub fn decode(bytes: &[u8], range: &Range<u64>, crc: u32) -> Result<Self> {
        if bytes.len() as u64 != range.end - range.start || crc32c::crc32c(bytes) != crc {
            return Err(corrupt("the head fails its check"));
        }
        let mut c = Reader::new(bytes);
        let rows = c.count(u64::from(u32::MAX))? as u32;
        let total_len = c.count(u64::MAX)? as u64;
        let term_count = c.count(u64::from(u32::MAX))? as u64;
        let doc_bytes = c.count(range.start)? as u64;
        let doc_lens_crc = c.u32()?;
        let dictionary_start = c.count(range.start)? as u64;
        let doc_lens = BODY_START..BODY_START + doc_bytes;
        if doc_bytes < u64::from(rows) || doc_lens.end > dictionary_start {
            return Err(corrupt("the row lengths do not fit"));
        }
        let block_count = c.count(term_count)?;
        let mut blocks: Vec<TermBlockRef> = Vec::with_capacity(block_count.min(c.left()));
        let (mut end, mut postings, mut terms) = (dictionary_start, doc_lens.end, 0u64);
        for _ in 0..block_count {
            let first = term(&mut c)?;
            if blocks.last().is_some_and(|b| b.first.as_str() >= first.as_str()) {
                return Err(corrupt("dictionary blocks out of order"));
            }
            let count = c.count(MAX_BLOCK_TERMS)? as u32;
            let length = c.count(range.start)? as u64;
            let postings_start = c.count(dictionary_start)? as u64;
            let crc = c.u32()?;
            if count == 0 || length == 0 || postings_start < postings || end + length > range.start {
                return Err(corrupt("a dictionary block out of place"));
            }
            terms += u64::from(count);
            blocks.push(TermBlockRef { first, terms: count, range: end..end + length, postings_start, crc });
            (end, postings) = (end + length, postings_start);
        }
        if c.left() != 0 || terms != term_count || end != range.start {
            return Err(corrupt("the head disagrees with the dictionary"));
        }
        Ok(Self { rows, total_len, term_count, doc_lens, doc_lens_crc, dictionary_start, blocks })
    }

    /// The block that holds `term` if the file has it (the last whose first term is ≤ it).
    pub fn block_of(&self, term: &str) -> Option<usize> {
        self.blocks.partition_point(|b| b.first.as_str() <= term).checked_sub(1)
    }

    /// Decodes and checks block `i`'s bytes.
    pub fn decode_block(&self, i: usize, bytes: &[u8]) -> Result<Vec<TermEntry>> {
        let block = self.blocks.get(i).ok_or_else(|| corrupt("no such dictionary block"))?;
        if bytes.len() as u64 != block.range.end - block.range.start || crc32c::crc32c(bytes) != block.crc {
            return Err(corrupt("a dictionary block fails its check"));
        }
        let mut c = Reader::new(bytes);
        let mut at = block.postings_start;
        let mut entries: Vec<TermEntry> = Vec::with_capacity(block.terms as usize);
        for _ in 0..block.terms {
            let term = term(&mut c)?;
            let in_order = match entries.last() {
                Some(prev) => prev.term < term,
                None => term == block.first,
            };
            if !in_order {
                return Err(corrupt("block terms out of order"));
            }
            let df = c.count(u64::from(self.rows))? as u32;
            // Inline streams lie in the block, others in the postings: bounds checked below.
            let rows_len = c.count(u64::from(u32::MAX))? as u64;
            let positions_len = c.count(u64::from(u32::MAX))? as u64;
            // A posting takes at least three bytes of rows stream and one of positions.
            if df == 0 || rows_len < 3 * u64::from(df) || positions_len < u64::from(df) {
                return Err(corrupt("a term's postings are too short for its frequency"));
            }
            if rows_len + positions_len <= INLINE_POSTING_BYTES {
                let rows = c.take(rows_len as usize)?;
                let positions = c.take(positions_len as usize)?;
                let mut list = self.rows_stream(df, rows)?;
                positions_stream(positions, &mut list)?;
                let (none, inline) = (at..at, Some(list.into()));
                entries.push(TermEntry {
                    term,
                    df,
                    rows: none.clone(),
                    positions: none,
                    rows_crc: 0,
                    positions_crc: 0,
                    inline,
                });
                continue;
            }
            let (rows_crc, positions_crc) = (c.u32()?, c.u32()?);
            let rows = at..at + rows_len;
            let positions = rows.end..rows.end + positions_len;
            at = positions.end;
            if at > self.dictionary_start {
                return Err(corrupt("a term's postings run past the postings"));
            }
            entries.push(TermEntry { term, df, rows, positions, rows_crc, positions_crc, inline: None });
        }
        let next = self.blocks.get(i + 1).map_or(self.dictionary_start, |b| b.postings_start);
        if c.left() != 0 || at != next {
            return Err(corrupt("a dictionary block disagrees with the postings"));
        }
        Ok(entries)
    }

    /// Decodes and checks a term's rows stream (`bytes` at `entry.rows`): its postings
    /// without positions (an inline term's postings, with them, whatever `bytes`).
    pub fn decode_rows(&self, entry: &TermEntry, bytes: &[u8]) -> Result<Vec<Posting>> {
        if let Some(inline) = &entry.inline {
            return Ok(inline.to_vec());
        }
        if bytes.len() as u64 != entry.rows.end - entry.rows.start || crc32c::crc32c(bytes) != entry.rows_crc
        {
            return Err(corrupt("a rows stream fails its check"));
        }
        self.rows_stream(entry.df, bytes)
    }

    /// The `df` postings of a rows stream, checked against the head's row count.
    fn rows_stream(&self, df: u32, bytes: &[u8]) -> Result<Vec<Posting>> {
        let mut c = Reader::new(bytes);
        let mut list = Vec::with_capacity(df as usize);
        let mut row = 0u64;
        for i in 0..df {
            let delta = c.count(u64::from(self.rows))? as u64;
            if i > 0 && delta == 0 {
                return Err(corrupt("a row repeats in a posting list"));
            }
            row += delta;
            if row >= u64::from(self.rows) {
                return Err(corrupt("a posting past the rows"));
            }
            let tf = c.count(u64::from(u32::MAX))? as u32;
            let len = c.count(u64::from(u32::MAX))? as u32;
            if tf == 0 || tf > len {
                return Err(corrupt("a posting's frequency is out of range"));
            }
            list.push(Posting { row: row as u32, tf, len, positions: Vec::new() });
        }
        if c.left() != 0 {
            return Err(corrupt("trailing bytes in a rows stream"));
        }
        Ok(list)
    }

    /// Fills `postings` (from [`TextHead::decode_rows`] of `entry`) with their positions from
    /// the positions stream `bytes`.
    pub fn decode_positions(&self, entry: &TermEntry, bytes: &[u8], postings: &mut [Posting]) -> Result<()> {
        if entry.inline.is_some() {
            return Ok(());
        }
        if bytes.len() as u64 != entry.positions.end - entry.positions.start
            || crc32c::crc32c(bytes) != entry.positions_crc
        {
            return Err(corrupt("a positions stream fails its check"));
        }
        positions_stream(bytes, postings)
    }

    /// Decodes and checks the row lengths (`bytes` at `self.doc_lens`).
    pub fn decode_doc_lens(&self, bytes: &[u8]) -> Result<Vec<u32>> {
        if bytes.len() as u64 != self.doc_lens.end - self.doc_lens.start
            || crc32c::crc32c(bytes) != self.doc_lens_crc
        {
            return Err(corrupt("the row lengths fail their check"));
        }
        let mut c = Reader::new(bytes);
        let mut lens = Vec::with_capacity(self.rows as usize);
        for _ in 0..self.rows {
            lens.push(c.count(u64::from(u32::MAX))? as u32);
        }
        if c.left() != 0 || lens.iter().map(|&l| u64::from(l)).sum::<u64>() != self.total_len {
            return Err(corrupt("the row lengths disagree with the head"));
        }
        Ok(lens)
    }
}

/// Fills `postings` with their positions from a positions stream.
fn positions_stream(bytes: &[u8], postings: &mut [Posting]) -> Result<()> {
    let mut c = Reader::new(bytes);
    for p in postings.iter_mut() {
        p.positions = read_positions(&mut c, p.tf as usize, u64::from(p.len))?;
    }
    if c.left() != 0 {
        return Err(corrupt("trailing bytes in a positions stream"));
    }
    Ok(())
}

fn term(c: &mut Reader<'_>) -> Result<String> {
    let len = c.count(MAX_TERM_FIELD)?;
    std::str::from_utf8(c.take(len)?).map(str::to_owned).map_err(|_| corrupt("a term is not UTF-8"))
}

fn slice<'a>(bytes: &'a [u8], r: &Range<u64>) -> Result<&'a [u8]> {
    bytes.get(r.start as usize..r.end as usize).ok_or_else(|| corrupt("a range past the blob"))
}

impl TextIndex {
    /// The binary form (version 2). A partial index has none.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes either version's bytes, checking every count, order and sum.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        match bytes.get(..5) {
            Some([m0, m1, m2, m3, v]) if [*m0, *m1, *m2, *m3] == *MAGIC => match *v {
                VERSION_1 => decode_v1(bytes),
                VERSION => decode(bytes),
                v => Err(corrupt(&format!("version {v}, this build reads 1 and 2"))),
            },
            _ => Err(corrupt("bad magic")),
        }
    }
}

/// The version 2 form of a whole index.
fn encode(index: &TextIndex) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + index.doc_lens().len() + index.term_count() * 16);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    index.doc_lens().iter().for_each(|&l| put(&mut out, u64::from(l)));
    let doc_bytes = out.len() as u64 - BODY_START;
    let doc_crc = crc32c::crc32c(&out[BODY_START as usize..]);
    // Postings: per term its rows stream, then its positions stream — in the postings region,
    // or in the term's dictionary entry when both are small.
    let mut entries = Vec::with_capacity(index.term_count());
    for (term, postings) in index.terms() {
        let (mut rows, mut positions) = (Vec::new(), Vec::new());
        let mut prev = 0u32;
        for (i, p) in postings.iter().enumerate() {
            put(&mut rows, u64::from(if i == 0 { p.row } else { p.row - prev }));
            put(&mut rows, u64::from(p.tf));
            put(&mut rows, u64::from(p.len));
            put_positions(&mut positions, &p.positions);
            prev = p.row;
        }
        let inline = (rows.len() + positions.len()) as u64 <= INLINE_POSTING_BYTES;
        let start = out.len();
        if !inline {
            out.extend_from_slice(&rows);
            out.extend_from_slice(&positions);
        }
        entries.push((term, postings.len(), start, rows, positions, inline));
    }
    let dictionary_start = out.len();
    let mut blocks = Vec::new();
    for chunk in entries.chunks(TERMS_PER_BLOCK) {
        let start = out.len();
        for (term, df, _, rows, positions, inline) in chunk {
            put(&mut out, term.len() as u64);
            out.extend_from_slice(term.as_bytes());
            put(&mut out, *df as u64);
            put(&mut out, rows.len() as u64);
            put(&mut out, positions.len() as u64);
            if *inline {
                out.extend_from_slice(rows);
                out.extend_from_slice(positions);
            } else {
                out.extend_from_slice(&crc32c::crc32c(rows).to_le_bytes());
                out.extend_from_slice(&crc32c::crc32c(positions).to_le_bytes());
            }
        }
        blocks.push((chunk[0].0, chunk.len(), out.len() - start, chunk[0].2, crc32c::crc32c(&out[start..])));
    }
    let head_start = out.len();
    put(&mut out, u64::from(index.rows()));
    put(&mut out, index.total_len());
    put(&mut out, index.term_count() as u64);
    put(&mut out, doc_bytes);
    out.extend_from_slice(&doc_crc.to_le_bytes());
    put(&mut out, dictionary_start as u64);
    put(&mut out, blocks.len() as u64);
    for (first, terms, length, postings_start, crc) in blocks {
        put(&mut out, first.len() as u64);
        out.extend_from_slice(first.as_bytes());
        put(&mut out, terms as u64);
        put(&mut out, length as u64);
        put(&mut out, postings_start as u64);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    let head_len = (out.len() - head_start) as u32;
    let head_crc = crc32c::crc32c(&out[head_start..]);
    out.extend_from_slice(&head_len.to_le_bytes());
    out.extend_from_slice(&head_crc.to_le_bytes());
    out.extend_from_slice(MAGIC);
    out
}

/// Decodes a whole version 2 blob through the same pieces a partial read uses, then checks
/// what only the whole shows: every posting's row length is the row's, and every row's
/// frequencies sum to its length.
fn decode(bytes: &[u8]) -> Result<TextIndex> {
    let blob_len = bytes.len() as u64;
    let trailer_at = blob_len.checked_sub(TEXT_TRAILER_BYTES).ok_or_else(|| corrupt("blob too short"))?;
    let (range, crc) = parse_trailer(slice(bytes, &(trailer_at..blob_len))?, blob_len)?;
    let head = TextHead::decode(slice(bytes, &range)?, &range, crc)?;
    let doc_len = head.decode_doc_lens(slice(bytes, &head.doc_lens)?)?;
    let mut seen = vec![0u64; doc_len.len()];
    let mut terms = Vec::with_capacity((head.term_count as usize).min(bytes.len()));
    let mut postings: Vec<Arc<[Posting]>> = Vec::with_capacity(terms.capacity());
    for (i, block) in head.blocks.iter().enumerate() {
        for entry in head.decode_block(i, slice(bytes, &block.range)?)? {
            let list = match &entry.inline {
                Some(inline) => inline.clone(),
                None => {
                    let mut list = head.decode_rows(&entry, slice(bytes, &entry.rows)?)?;
                    head.decode_positions(&entry, slice(bytes, &entry.positions)?, &mut list)?;
                    list.into()
                }
            };
            for p in list.iter() {
                if doc_len[p.row as usize] != p.len {
                    return Err(corrupt("a posting's row length is not the row's"));
                }
                seen[p.row as usize] += u64::from(p.tf);
            }
            terms.push(entry.term);
            postings.push(list);
        }
    }
    if seen.iter().zip(&doc_len).any(|(&s, &l)| s != u64::from(l)) {
        return Err(corrupt("row lengths disagree with the postings"));
    }
    Ok(TextIndex::from_decoded(head.rows, terms, postings, doc_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index(rows: &[Vec<u8>]) -> TextIndex {
        TextIndex::from_term_rows(rows.iter().map(|r| r.iter().map(|&t| format!("t{t}")).collect()))
    }

    /// A query term's postings read piece by piece, as a search does.
    fn partial(bytes: &[u8], term: &str, positions: bool) -> Vec<Posting> {
        let n = bytes.len() as u64;
        let (range, crc) = parse_trailer(&bytes[(n - TEXT_TRAILER_BYTES) as usize..], n).unwrap();
        let head = TextHead::decode(slice(bytes, &range).unwrap(), &range, crc).unwrap();
        let Some(b) = head.block_of(term) else { return Vec::new() };
        let entries = head.decode_block(b, slice(bytes, &head.blocks[b].range).unwrap()).unwrap();
        let Some(e) = entries.iter().find(|e| e.term == term) else { return Vec::new() };
        let mut list = head.decode_rows(e, slice(bytes, &e.rows).unwrap()).unwrap();
        if positions {
            head.decode_positions(e, slice(bytes, &e.positions).unwrap(), &mut list).unwrap();
        }
        list
    }

    proptest! {
        #[test]
        fn whole_and_partial_reads_equal_the_index(
            rows in proptest::collection::vec(proptest::collection::vec(0u8..200, 0..30), 0..120)
        ) {
            let index = index(&rows);
            let bytes = index.encode();
            prop_assert_eq!(&TextIndex::decode(&bytes).unwrap(), &index);
            prop_assert_eq!(&TextIndex::decode(&index.encode_v1()).unwrap(), &index);
            for t in (0..200u8).step_by(7).map(|t| format!("t{t}")).chain(["a".into(), "zz".into()]) {
                let full = index.postings(&t);
                prop_assert_eq!(&partial(&bytes, &t, true)[..], full);
                let bare: Vec<_> = partial(&bytes, &t, false).into_iter().map(|p| (p.row, p.tf, p.len)).collect();
                prop_assert_eq!(bare, full.iter().map(|p| (p.row, p.tf, p.len)).collect::<Vec<_>>());
            }
        }

        #[test]
        fn a_flipped_byte_never_panics(at in 0usize..4000, bit in 0u8..8) {
            let index = index(&(0..40).map(|r| (0..(r % 9) as u8).map(|i| i * 13 % 150).collect()).collect::<Vec<_>>());
            let mut bytes = index.encode();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            // Every piece is CRC-checked: a flipped bit decodes to an error, never another index.
            prop_assert!(TextIndex::decode(&bytes).is_err());
        }
    }

    #[test]
    fn a_v1_term_without_postings_is_refused() {
        // Found by the fuzzer: version 1, one row of no terms, one empty term of no postings.
        assert!(TextIndex::decode(b"AITX\x01\x01\x01\x00\x00\x00").is_err());
    }

    #[test]
    fn an_index_of_empty_rows_round_trips() {
        let index = index(&[vec![], vec![]]);
        assert_eq!(TextIndex::decode(&index.encode()).unwrap(), index);
        let none = TextIndex::from_term_rows(Vec::<Vec<String>>::new());
        assert_eq!(TextIndex::decode(&none.encode()).unwrap(), none);
    }
}
