//! The REST catalog tests' fixtures: the rustberg server (`ailk_testkit::rustberg`) and
//! [`proxy`], a fault-injecting HTTP proxy in front of it.
#![allow(dead_code)]

pub mod proxy;

pub use ailk_testkit::rustberg::Rustberg;
