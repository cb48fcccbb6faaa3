//! DataFusion `TableProvider`s: a table's rows ([`table::AilakeTable`]) and a vector search
//! as a table ([`search::VectorSearchTable`]).

pub(crate) mod search;
pub(crate) mod table;
pub(crate) mod text;
