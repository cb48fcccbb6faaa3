//! [`RowFilter`]: the rows of a shard a search may return (filters, deletes and rows without
//! a usable vector, combined into one bitmap), and the [`Accept`] test the graph walk uses.

/// The rows of a shard a search may return (a bitmap over row ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFilter {
    bits: Vec<u64>,
    count: usize,
}

impl RowFilter {
    /// The rows `rows` of a shard of `total` rows (ids at or past `total` are ignored).
    pub fn from_rows(rows: impl IntoIterator<Item = u32>, total: usize) -> Self {
        let mut bits = vec![0u64; total.div_ceil(64)];
        let mut count = 0;
        for r in rows {
            let r = r as usize;
            if r < total && bits[r / 64] & (1 << (r % 64)) == 0 {
                bits[r / 64] |= 1 << (r % 64);
                count += 1;
            }
        }
        Self { bits, count }
    }

    /// Every row of a shard of `total` rows.
    pub fn all(total: usize) -> Self {
        let mut bits = vec![u64::MAX; total.div_ceil(64)];
        if !total.is_multiple_of(64) {
            if let Some(last) = bits.last_mut() {
                *last = (1u64 << (total % 64)) - 1;
            }
        }
        Self { bits, count: total }
    }

    /// Disallows `rows` (ids not allowed already, or past the total, are ignored).
    pub fn remove(&mut self, rows: impl IntoIterator<Item = u32>) {
        for r in rows {
            let r = r as usize;
            if let Some(word) = self.bits.get_mut(r / 64) {
                if *word & (1 << (r % 64)) != 0 {
                    *word &= !(1 << (r % 64));
                    self.count -= 1;
                }
            }
        }
    }

    /// Whether row `row` is allowed.
    pub fn contains(&self, row: u32) -> bool {
        let r = row as usize;
        self.bits.get(r / 64).is_some_and(|w| w & (1 << (r % 64)) != 0)
    }

    /// Allowed rows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no row is allowed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The allowed rows, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32).filter(move |b| word & (1 << b) != 0).map(move |b| w as u32 * 64 + b)
        })
    }
}

/// Which nodes a search may return (every node is still a waypoint).
pub(crate) trait Accept {
    /// Whether `id` may be returned.
    fn accept(&self, id: u32) -> bool;
}

/// Every row may be returned (the unfiltered walk, compiled without the test).
pub(crate) struct AllRows;

impl Accept for AllRows {
    #[inline(always)]
    fn accept(&self, _id: u32) -> bool {
        true
    }
}

impl Accept for RowFilter {
    #[inline(always)]
    fn accept(&self, id: u32) -> bool {
        self.contains(id)
    }
}
