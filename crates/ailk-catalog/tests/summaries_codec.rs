//! The shard-summaries blob: round trips, and malformed bytes decode to `Corrupt`, never panic.

use ailk_catalog::{
    decode_summaries, encode_summaries, BlockEntry, BlockLayout, CatalogError, IndexKind, IndexStatus,
    Occupancy, ShardSummary,
};
use proptest::prelude::*;

fn summary() -> impl Strategy<Value = ShardSummary> {
    (
        "[a-z0-9/:._-]{0,40}",
        "[a-z_]{0,12}",
        any::<u64>(),
        prop::collection::vec(-1e6f32..1e6, 0..40),
        0f32..1e6,
        0u8..3,
        any::<bool>(),
        prop::option::of((any::<u64>(), 1u64..u64::MAX)),
        prop::option::of((any::<u32>(), prop::collection::btree_map(any::<u32>(), 1u32.., 0..20))),
        prop::option::of((
            any::<u32>(),
            any::<u64>(),
            1u32..512,
            0u64..1 << 40,
            prop::collection::vec((any::<u32>(), 1u32..1000, 0u64..1 << 40, 0u64..1 << 20), 1..6),
        )),
    )
        .prop_map(|(file_path, column, rows, centroid, radius, kind, ready, section, occ, blocks)| {
            ShardSummary {
                file_path,
                rows,
                column,
                centroid,
                radius,
                index: [IndexKind::Flat, IndexKind::Hnsw, IndexKind::IvfPq][kind as usize],
                status: if ready { IndexStatus::Ready } else { IndexStatus::Pending },
                section,
                occupancy: occ
                    .map(|(version, counts)| Occupancy { version, counts: counts.into_iter().collect() }),
                blocks: blocks.map(|(version, seed, dim, vectors_offset, entries)| {
                    let mut row_start = 0;
                    let blocks = entries
                        .into_iter()
                        .map(|(partition, rows, offset, length)| {
                            let b = BlockEntry { partition, row_start, rows, offset, length };
                            row_start += rows;
                            b
                        })
                        .collect();
                    BlockLayout {
                        version,
                        seed,
                        dim,
                        padded: dim.next_power_of_two().max(64),
                        vectors_offset,
                        blocks,
                    }
                }),
            }
        })
}

proptest! {
    #[test]
    fn round_trips(summaries in prop::collection::vec(summary(), 0..12)) {
        let bytes = encode_summaries(&summaries);
        prop_assert_eq!(decode_summaries(&bytes).unwrap(), summaries);
    }

    #[test]
    fn every_truncation_is_an_error(summaries in prop::collection::vec(summary(), 1..4), cut in any::<prop::sample::Index>()) {
        let bytes = encode_summaries(&summaries);
        let cut = cut.index(bytes.len());
        prop_assert!(matches!(decode_summaries(&bytes[..cut]), Err(CatalogError::Corrupt(_))));
    }

    #[test]
    fn damaged_bytes_never_panic(summaries in prop::collection::vec(summary(), 1..4), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode_summaries(&summaries);
        let at = at.index(bytes.len());
        bytes[at] = byte;
        let _ = decode_summaries(&bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_summaries(&bytes);
    }
}

#[test]
fn absurd_counts_do_not_allocate() {
    let mut bytes = u32::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0u8; 8]);
    assert!(matches!(decode_summaries(&bytes), Err(CatalogError::Corrupt(_))));
}
