//! Arbitrary bytes as a Puffin shard-summaries blob (read from the object store at planning
//! time): decoding must never panic or over-allocate, and whatever decodes re-encodes to a blob
//! that decodes to the same summaries.
#![no_main]

use ailk_catalog::{decode_summaries, encode_summaries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(summaries) = decode_summaries(data) else { return };
    let again = decode_summaries(&encode_summaries(&summaries)).expect("our own encoding decodes");
    assert_eq!(again.len(), summaries.len());
    for (a, b) in again.iter().zip(&summaries) {
        assert_eq!((&a.file_path, &a.column, a.rows, a.index, a.status), (&b.file_path, &b.column, b.rows, b.index, b.status));
        assert_eq!(a.centroid.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.centroid.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(a.radius.to_bits(), b.radius.to_bits());
    }
});
