//! # ailk-catalog
//!
//! Iceberg metadata, the snapshot producer (append / replace / delete), optimistic commits with retry, catalogs (SQLite, memory), idempotency tags and per-shard vector summaries.
//!
//! Not built yet: this crate exists so the workspace has its final shape; see
//! `docs/ARCHITECTURE.md` for what it will own and the issue tracker for when.
#![warn(missing_docs)]
