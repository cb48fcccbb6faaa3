//! Arbitrary bytes as an AILK section: decoding must never panic, and whatever decodes must
//! view its payloads within bounds. Each input is decoded twice: as given, and with its
//! checksums patched to match, so mutations reach the layout and payload validators behind
//! the CRC gate.
#![no_main]

use ailk_format::{
    AlignedBytes, CodeBlockParts, HnswGraph, IvfCentroids, IvfLists, PartitionBlocks, PqCodebook, RawVectors, Section,
    SectionDirectory, SubsectionKind, TextIndex, TextIndexes,
};
use libfuzzer_sys::fuzz_target;

fn exercise(data: &[u8]) {
    let _ = SectionDirectory::decode(data);
    let _ = ailk_format::section::peek_lengths(data);
    let Ok(section) = Section::decode(AlignedBytes::copy_from(data)) else { return };
    for entry in section.directory().entries.clone() {
        let Ok(p) = section.payload(entry.kind, entry.column) else { continue };
        match entry.kind {
            SubsectionKind::RawVectors => drop(RawVectors::decode(&p)),
            SubsectionKind::HnswGraph => drop(HnswGraph::decode(&p)),
            SubsectionKind::IvfCentroids => drop(IvfCentroids::decode(&p)),
            SubsectionKind::PqCodebook => drop(PqCodebook::decode(&p)),
            SubsectionKind::IvfLists => {
                if let Ok(l) = IvfLists::decode(&p) {
                    for i in 0..=l.nlist as usize {
                        let _ = l.list(i);
                    }
                }
            }
            SubsectionKind::PartitionBlocks => {
                if let Ok(blocks) = PartitionBlocks::decode(&p) {
                    for b in 0..=blocks.len() {
                        let Some(bytes) = blocks.block(b) else { continue };
                        let _ = CodeBlockParts::parse(bytes);
                        // And with the block's own CRC patched, to reach its layout checks.
                        let mut patched = bytes.to_vec();
                        if patched.len() >= 8 {
                            let crc = crc32c::crc32c(&patched[8..]);
                            patched[4..8].copy_from_slice(&crc.to_le_bytes());
                            let _ = CodeBlockParts::parse(&patched);
                        }
                    }
                }
            }
            SubsectionKind::TextIndexes => {
                if let Ok(t) = TextIndexes::decode(&p) {
                    for c in &t.columns {
                        let _ = TextIndex::decode(&c.index);
                    }
                }
            }
            SubsectionKind::Unknown(_) => {}
        }
    }
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

/// Rewrites payload and directory CRCs so they match the (mutated) bytes.
fn patch_checksums(d: &mut [u8]) -> Option<()> {
    let dir_len = u32_at(d, 12)? as usize;
    let columns = u32_at(d, 32)? as usize;
    let entries = u32_at(d, 36)? as usize;
    if dir_len > d.len() || dir_len < 44 {
        return None;
    }
    for e in 0..entries.min(4096) {
        let at = 64usize.checked_add(columns.checked_mul(32)?)?.checked_add(e * 32)?;
        if at + 32 > dir_len {
            break;
        }
        let (off, len) = (u64_at(d, at + 8)? as usize, u64_at(d, at + 16)? as usize);
        if let Some(payload) = off.checked_add(len).and_then(|end| d.get(off..end)) {
            let crc = crc32c::crc32c(payload);
            d[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = crc32c::crc32c_append(crc32c::crc32c(&d[..40]), &d[44..dir_len]);
    d[40..44].copy_from_slice(&crc.to_le_bytes());
    Some(())
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    let mut patched = data.to_vec();
    if patch_checksums(&mut patched).is_some() {
        exercise(&patched);
    }
});
