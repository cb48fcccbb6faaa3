//! Arbitrary bytes as a whole data file: opening it, loading its section and re-sectioning
//! it must never panic (panics inside parquet's own footer decoder are contained by
//! ailk-format and must surface as errors).
#![no_main]

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStoreExt, PutPayload};
use ailk_format::{memory_store, ReadOptions, ShardReader};
use libfuzzer_sys::fuzz_target;

static QUIET_PANICS: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // ailk-format contains panics of the parquet footer decoder with catch_unwind (a known
    // upstream weakness, turned into errors). libfuzzer-sys's hook aborts on every panic, even
    // a caught one, so replace it: a panic that escapes our code still fails the run, because
    // libfuzzer-sys treats an unwinding target as a crash.
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
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
