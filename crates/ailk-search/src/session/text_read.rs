//! Reading what a full-text query needs of each file's version 2 text index: the dictionary
//! blocks that may hold its terms (a rare term's postings are stored in its block), then the
//! other terms' postings (rows streams; positions too for a phrase) and, for a file with
//! deleted rows, its row lengths — each wave one coalesced ranged read per file, all files at
//! once. Pieces are checked on their own (CRC-32C, counts)
//! and kept in the `ShardCache`; a piece that fails its check sends that file to the scan of
//! its text column (logged and counted), never to a wrong answer.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use ailk_catalog::TextSpec;
use ailk_format::{ErrorKind, Posting, TermEntry, TextHead};
use ailk_index::text::TextIndex;
use arrow_schema::FieldRef;
use futures::{StreamExt, TryStreamExt};

use super::SearchSession;
use crate::cache::TextPartKey;
use crate::error::{Result, SearchError};
use crate::params::SearchCounters;
use crate::text_shard::{scan_text_shard, TextBody, TextPart, TextShard, TextSource};

/// Files whose pieces are read at once.
const TEXT_READ_CONCURRENCY: usize = 64;
/// Ranges of one file less than this apart share a request.
const TEXT_GAP: u64 = 8 << 10;

/// One file's index as a query sees it: whole, or the query's terms only.
pub(super) struct TermView {
    shard: Arc<TextShard>,
    partial: Option<TextIndex>,
    /// Terms in the file's deleted rows.
    pub deleted_len: u64,
}

impl TermView {
    /// The index to score and match with.
    pub fn index(&self) -> &TextIndex {
        match (&self.partial, &self.shard.body) {
            (Some(p), _) => p,
            (None, TextBody::Whole(index)) => index,
            (None, TextBody::Lazy { .. }) => unreachable!("a lazy shard's view is partial"),
        }
    }

    /// Rows of the file.
    pub fn rows(&self) -> u32 {
        self.shard.rows()
    }

    /// Terms in all rows of the file.
    pub fn total_len(&self) -> u64 {
        self.shard.total_len()
    }
}

impl SearchSession {
    /// Per file of the plan (`shards`, in order; `deleted`: its deleted rows): its index
    /// holding the postings of `terms` (sorted, distinct), with positions when `positions`.
    pub(super) async fn term_views(
        &self,
        shards: Vec<Arc<TextShard>>,
        spec: &TextSpec,
        field: &FieldRef,
        terms: &[String],
        positions: bool,
        deleted: &[&[u64]],
    ) -> Result<Vec<TermView>> {
        futures::stream::iter(shards.into_iter().enumerate())
            .map(|(i, shard)| self.term_view(i, shard, spec, field, terms, positions, deleted[i]))
            .buffered(TEXT_READ_CONCURRENCY)
            .try_collect()
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn term_view(
        &self,
        i: usize,
        shard: Arc<TextShard>,
        spec: &TextSpec,
        field: &FieldRef,
        terms: &[String],
        positions: bool,
        deleted: &[u64],
    ) -> Result<TermView> {
        let TextBody::Lazy { head, blob_start } = &shard.body else {
            let TextBody::Whole(index) = &shard.body else { unreachable!() };
            let deleted_len = deleted.iter().map(|&r| u64::from(index.doc_len(r as u32))).sum();
            return Ok(TermView { shard, partial: None, deleted_len });
        };
        match self.read_terms(i, head, *blob_start, spec, terms, positions, deleted).await {
            Ok((partial, deleted_len)) => Ok(TermView { shard, partial: Some(partial), deleted_len }),
            Err(e) if e.kind() == ErrorKind::Corrupt => {
                let plan = &self.plan[i];
                tracing::warn!(file = %plan.uri(), column = %spec.name, error = %e, "text index piece unusable; scanning the file's text column");
                let reader = self.reader(plan.uri(), &plan.path, plan.file_size()).await?;
                let scanned = scan_text_shard(
                    self.cached.clone(),
                    &plan.path,
                    &reader,
                    spec,
                    field,
                    TextSource::Corrupt,
                );
                let scanned = Arc::new(scanned.await?);
                self.cache.insert_text(plan.uri(), &column_key(spec), scanned.clone());
                SearchCounters::add(&self.counters.text_shards_scanned, 1);
                SearchCounters::add(&self.counters.text_indexes_corrupt, 1);
                let TextBody::Whole(index) = &scanned.body else { unreachable!("a scan is whole") };
                let deleted_len = deleted.iter().map(|&r| u64::from(index.doc_len(r as u32))).sum();
                Ok(TermView { shard: scanned, partial: None, deleted_len })
            }
            Err(e) => Err(e),
        }
    }

    /// The partial index of `terms` of shard `i` and the terms in its deleted rows.
    #[allow(clippy::too_many_arguments)]
    async fn read_terms(
        &self,
        i: usize,
        head: &TextHead,
        blob_start: u64,
        spec: &TextSpec,
        terms: &[String],
        positions: bool,
        deleted: &[u64],
    ) -> Result<(TextIndex, u64)> {
        let plan = &self.plan[i];
        let (uri, column) = (plan.uri(), column_key(spec));
        let file = |r: &Range<u64>| blob_start + r.start..blob_start + r.end;

        // Wave 1: the dictionary blocks that may hold the terms.
        let blocks: Vec<usize> =
            terms.iter().filter_map(|t| head.block_of(t)).collect::<BTreeSet<_>>().into_iter().collect();
        let mut got = self.cache.get_text_parts(uri, &column, blocks.iter().map(|&b| TextPartKey::Block(b)));
        let missing: Vec<usize> = (0..blocks.len()).filter(|&j| got[j].is_none()).collect();
        if !missing.is_empty() {
            let ranges: Vec<_> = missing.iter().map(|&j| file(&head.blocks[blocks[j]].range)).collect();
            let bytes = self.read_coalesced(&plan.path, &ranges, TEXT_GAP).await?;
            for (&j, bytes) in missing.iter().zip(bytes) {
                let part = Arc::new(TextPart::Block(head.decode_block(blocks[j], &bytes)?));
                self.cache.insert_text_part(uri, &column, TextPartKey::Block(blocks[j]), part.clone());
                got[j] = Some(part);
            }
        }
        let mut entries: Vec<&TermEntry> = Vec::new();
        for t in terms {
            let Some(b) = head.block_of(t) else { continue };
            let Some(TextPart::Block(block)) = blocks.binary_search(&b).ok().and_then(|j| got[j].as_deref())
            else {
                continue;
            };
            if let Ok(at) = block.binary_search_by(|e| e.term.as_str().cmp(t)) {
                entries.push(&block[at]);
            }
        }

        // Wave 2: the terms' postings (but those inline in their blocks) and, with deleted
        // rows, the row lengths.
        let (inline, entries): (Vec<&TermEntry>, Vec<&TermEntry>) =
            entries.into_iter().partition(|e| e.inline.is_some());
        let keys = entries.iter().map(|e| TextPartKey::Postings(e.term.clone(), true));
        let mut lists = self.cache.get_text_parts(uri, &column, keys);
        if !positions {
            let bare = entries.iter().map(|e| TextPartKey::Postings(e.term.clone(), false));
            for (l, b) in lists.iter_mut().zip(self.cache.get_text_parts(uri, &column, bare)) {
                *l = l.take().or(b);
            }
        }
        let mut lens = if deleted.is_empty() {
            None
        } else {
            self.cache.get_text_parts(uri, &column, std::iter::once(TextPartKey::DocLens)).remove(0)
        };
        let missing: Vec<usize> = (0..entries.len()).filter(|&j| lists[j].is_none()).collect();
        let want_lens = !deleted.is_empty() && lens.is_none();
        if !missing.is_empty() || want_lens {
            let mut ranges: Vec<_> = missing
                .iter()
                .map(|&j| {
                    let e = entries[j];
                    file(&(e.rows.start..if positions { e.positions.end } else { e.rows.end }))
                })
                .collect();
            if want_lens {
                ranges.push(file(&head.doc_lens));
            }
            let mut bytes = self.read_coalesced(&plan.path, &ranges, TEXT_GAP).await?;
            if want_lens {
                let bytes = bytes.pop().unwrap_or_default();
                let part = Arc::new(TextPart::DocLens(head.decode_doc_lens(&bytes)?));
                self.cache.insert_text_part(uri, &column, TextPartKey::DocLens, part.clone());
                lens = Some(part);
            }
            for (&j, bytes) in missing.iter().zip(bytes) {
                let e = entries[j];
                let split = (e.rows.end - e.rows.start) as usize;
                let rows =
                    bytes.get(..split).ok_or_else(|| SearchError::Corrupt("a short postings read".into()))?;
                let mut list = head.decode_rows(e, rows)?;
                if positions {
                    head.decode_positions(e, &bytes[split..], &mut list)?;
                }
                let part = Arc::new(TextPart::Postings(list.into()));
                self.cache.insert_text_part(
                    uri,
                    &column,
                    TextPartKey::Postings(e.term.clone(), positions),
                    part.clone(),
                );
                lists[j] = Some(part);
            }
        }
        let mut parts: Vec<(String, Arc<[Posting]>)> = Vec::with_capacity(entries.len() + inline.len());
        for (e, l) in entries.iter().zip(lists) {
            if let Some(TextPart::Postings(list)) = l.as_deref() {
                parts.push((e.term.clone(), list.clone()));
            }
        }
        parts.extend(inline.iter().filter_map(|e| Some((e.term.clone(), e.inline.clone()?))));
        parts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let deleted_len = match lens.as_deref() {
            Some(TextPart::DocLens(lens)) => {
                deleted.iter().map(|&r| lens.get(r as usize).map_or(0, |&l| u64::from(l))).sum()
            }
            _ => 0,
        };
        Ok((TextIndex::from_parts(head.rows, head.total_len, parts, positions), deleted_len))
    }
}

/// The cache's name of a text column's index: the column and its analyzer.
pub(super) fn column_key(spec: &TextSpec) -> String {
    format!("{}:{}", spec.name, spec.analyzer)
}
