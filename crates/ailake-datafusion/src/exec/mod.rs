//! DataFusion `ExecutionPlan`s, one per file: the table scan, the per-partition vector
//! search and the merge of the partitions' top `k`.

pub(crate) mod merge;
pub(crate) mod scan;
pub(crate) mod search;
pub(crate) mod text;
