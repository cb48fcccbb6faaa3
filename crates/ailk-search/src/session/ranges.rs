//! Ranged reads of one object in one wave: neighbouring ranges merged into one request, the
//! rest read concurrently — or, on a local disk, in one `get_ranges` call (one file open, one
//! blocking task).

use std::ops::Range;

use ailk_format::object_store::path::Path;
use ailk_format::object_store::{ObjectStore, ObjectStoreExt};
use bytes::Bytes;

use super::SearchSession;
use crate::error::Result;

impl SearchSession {
    /// The bytes of `ranges` of `path` through the session's store: [`read_coalesced`], in
    /// one call on a local disk (one file open and one blocking task, not one per range) —
    /// only for a warehouse made local ([`ailk_catalog::Warehouse::in_process`]): an object
    /// store client's `get_ranges` merges ranges up to 1 MiB apart, reading the gaps.
    pub(super) async fn read_coalesced(
        &self,
        path: &Path,
        ranges: &[Range<u64>],
        gap: u64,
    ) -> Result<Vec<Bytes>> {
        read_coalesced(self.store.as_ref(), path, ranges, gap, self.in_process_store()).await
    }
}

/// The bytes of `ranges` of `path` (in any order), read in one wave of concurrent requests
/// (or, with `one_call`, one `get_ranges` call: a local disk's store reads them in one
/// task): ranges less than `gap` apart share a request; nothing else is read.
async fn read_coalesced(
    store: &dyn ObjectStore,
    path: &Path,
    ranges: &[Range<u64>],
    gap: u64,
    one_call: bool,
) -> Result<Vec<Bytes>> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].start);
    let mut merged: Vec<(Range<u64>, Vec<usize>)> = Vec::new();
    for i in order {
        let r = &ranges[i];
        match merged.last_mut() {
            Some((m, members)) if r.start <= m.end.saturating_add(gap) => {
                m.end = m.end.max(r.end);
                members.push(i);
            }
            _ => merged.push((r.clone(), vec![i])),
        }
    }
    let got: Vec<Bytes> = if one_call {
        let wanted: Vec<Range<u64>> = merged.iter().map(|(m, _)| m.clone()).collect();
        store.get_ranges(path, &wanted).await.map_err(ailk_format::FormatError::from)?
    } else {
        let reads = merged.iter().map(|(m, _)| store.get_range(path, m.clone()));
        let got: std::result::Result<Vec<Bytes>, _> =
            futures::future::join_all(reads).await.into_iter().collect();
        got.map_err(ailk_format::FormatError::from)?
    };
    let mut out = vec![Bytes::new(); ranges.len()];
    for ((m, members), got) in merged.iter().zip(got) {
        for &i in members {
            let (s, e) = ((ranges[i].start - m.start) as usize, (ranges[i].end - m.start) as usize);
            out[i] = if e <= got.len() { got.slice(s..e) } else { Bytes::new() };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ailk_format::object_store::PutPayload;

    #[tokio::test]
    async fn one_call_and_concurrent_reads_return_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let path = Path::from("f.bin");
        for store in [ailk_format::local_store(dir.path()).unwrap(), ailk_format::memory_store()] {
            store.put(&path, PutPayload::from(data.clone())).await.unwrap();
            // Out of order, overlapping, adjacent, far apart.
            let ranges = [90_000..90_512, 10..20, 15..4_000, 4_000..4_100, 60_000..99_999];
            for gap in [0, 4 << 10, 1 << 20] {
                for one_call in [false, true] {
                    let got = read_coalesced(store.as_ref(), &path, &ranges, gap, one_call).await.unwrap();
                    for (r, bytes) in ranges.iter().zip(&got) {
                        let want = &data[r.start as usize..r.end as usize];
                        assert_eq!(&bytes[..], want, "{r:?}, gap {gap}, one call {one_call}");
                    }
                }
            }
        }
    }
}
