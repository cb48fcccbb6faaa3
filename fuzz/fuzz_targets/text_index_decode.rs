//! Arbitrary bytes as a text column's inverted index (format 1.2, read from a file's section):
//! decoding must never panic or over-allocate, and whatever decodes re-encodes to bytes that
//! decode to the same index.
#![no_main]

use ailk_format::TextIndex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(index) = TextIndex::decode(data) else { return };
    let again = TextIndex::decode(&index.encode()).expect("our own encoding decodes");
    assert_eq!(again, index);
});
