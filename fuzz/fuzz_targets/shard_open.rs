//! Arbitrary bytes as a whole data file: opening it, loading its section and re-sectioning
//! it must never panic.
#![no_main]

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStoreExt, PutPayload};
use ailk_format::{memory_store, ReadOptions, ShardReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ailk_format::resection_bytes(data, data);
    futures::executor::block_on(async {
        let store = memory_store();
        let path = Path::from("f.parquet");
        if store.put(&path, PutPayload::from(data.to_vec())).await.is_err() {
            return;
        }
        let opts = ReadOptions { file_size: None, prefetch: 64 };
        if let Ok(reader) = ShardReader::open(store, path, opts).await {
            let _ = reader.load_section().await;
        }
    });
});
