//! ailk-catalog
