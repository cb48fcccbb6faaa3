//! ailake
