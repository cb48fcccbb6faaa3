//! # ailk-search
//!
//! `SearchSession`: snapshot planning, shard pruning, per-shard index or flat search, top-k merge, row fetch, filters and caches.
//!
//! Not built yet: this crate exists so the workspace has its final shape; see
//! `docs/ARCHITECTURE.md` for what it will own and the issue tracker for when.
#![warn(missing_docs)]
