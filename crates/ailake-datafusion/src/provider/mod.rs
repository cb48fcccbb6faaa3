//! DataFusion `TableProvider`s: a table's rows ([`table::AilakeTable`]) and a vector search
//! as a table ([`search::VectorSearchTable`]), text and hybrid searches
//! ([`text::TextSearchTable`]), sharing [`ranked`].

pub(crate) mod ranked;
pub(crate) mod search;
pub(crate) mod table;
pub(crate) mod text;
