//! ailk-index
