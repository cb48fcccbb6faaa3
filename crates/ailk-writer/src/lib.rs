//! ailk-writer
