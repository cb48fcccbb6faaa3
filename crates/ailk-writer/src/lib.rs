//! # ailk-writer
//!
//! `TableWriter`: the write façade (synchronous, deferred and idempotent writes), background index builds and hardware detection.
//!
//! Not built yet: this crate exists so the workspace has its final shape; see
//! `docs/ARCHITECTURE.md` for what it will own and the issue tracker for when.
#![warn(missing_docs)]
