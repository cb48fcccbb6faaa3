//! ailk-search
