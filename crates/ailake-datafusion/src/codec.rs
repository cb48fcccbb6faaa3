//! Extension codecs: ailake tables and plan nodes as bytes, so that a plan made in one process
//! runs in another — a Ballista client ships its logical plan to the scheduler, which ships
//! each stage's physical plan to its executors.
//!
//! A node names its table by identifier and snapshot id; the decoding process loads that
//! snapshot through its own [`Catalog`] (the same catalog and warehouse as the planner's)
//! and keeps the session for later tasks. Nodes that are not ailake's go to the wrapped
//! codec (Ballista's own, for its shuffle nodes and file formats).

use std::sync::Arc;

use ailake::Catalog;
use ailake::TableIdent;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Extension;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::exec::merge::VectorMergeExec;
use crate::exec::scan::AilakeScanExec;
use crate::exec::search::VectorSearchExec;
use crate::exec::text::TextSearchExec;
use crate::filter_expr::FilterWire;
use crate::options::{SearchOptions, SearchQuery, TextSearchQuery};
use crate::provider::search::VectorSearchTable;
use crate::provider::table::AilakeTable;
use crate::provider::text::TextSearchTable;
use crate::source::TableSource;

/// Marks ailake's encodings (anything else goes to the wrapped codec).
const MAGIC: &[u8] = b"ailake-datafusion/1\n";

#[derive(Serialize, Deserialize)]
struct TableWire {
    ident: String,
    snapshot: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct QueryWire {
    column: String,
    vector: Vec<f32>,
    k: usize,
    options: SearchOptions,
}

#[derive(Serialize, Deserialize)]
enum ProviderWire {
    Table(TableWire),
    Search { table: TableWire, query: QueryWire, vector_columns: Vec<String> },
    Text { table: TableWire, query: TextSearchQuery, vector_columns: Vec<String> },
}

#[derive(Serialize, Deserialize)]
enum ExecWire {
    Scan {
        table: TableWire,
        schema: Vec<u8>,
        groups: Vec<Vec<String>>,
        filter: Option<FilterWire>,
        limit: Option<usize>,
    },
    Search {
        table: TableWire,
        query: QueryWire,
        filter: Option<FilterWire>,
        schema: Vec<u8>,
        groups: Vec<Vec<String>>,
    },
    Merge {
        k: usize,
    },
    Text {
        table: TableWire,
        query: TextSearchQuery,
        filter: Option<FilterWire>,
        schema: Vec<u8>,
    },
}

/// Encodes and decodes ailake's table providers ([`AilakeTable`], `vector_search`,
/// `text_search` and `hybrid_search` results) and execution nodes ([`AilakeScanExec`],
/// [`VectorSearchExec`], [`VectorMergeExec`], [`TextSearchExec`]); other nodes go to the
/// wrapped codecs.
#[derive(Debug, Clone)]
pub struct AilakeCodec {
    catalog: Catalog,
    logical: Arc<dyn LogicalExtensionCodec>,
    physical: Arc<dyn PhysicalExtensionCodec>,
}

impl AilakeCodec {
    /// Decodes tables through `catalog`; other nodes use DataFusion's default codecs.
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            logical: Arc::new(datafusion_proto::logical_plan::DefaultLogicalExtensionCodec {}),
            physical: Arc::new(datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec {}),
        }
    }

    /// Other nodes go to `logical` and `physical` (a distributed engine's own codecs).
    pub fn wrapping(
        catalog: Catalog,
        logical: Arc<dyn LogicalExtensionCodec>,
        physical: Arc<dyn PhysicalExtensionCodec>,
    ) -> Self {
        Self { catalog, logical, physical }
    }

    fn source(&self, t: &TableWire) -> Result<TableSource> {
        let ident = TableIdent::parse(&t.ident).map_err(crate::error::to_df)?;
        Ok(TableSource::in_catalog(self.catalog.clone(), ident, t.snapshot))
    }
}

fn table_wire(s: &TableSource) -> TableWire {
    TableWire { ident: s.ident.to_string(), snapshot: s.snapshot }
}

fn query_wire(q: &SearchQuery) -> QueryWire {
    QueryWire { column: q.column.clone(), vector: q.vector.clone(), k: q.k, options: q.options.clone() }
}

fn query_of(q: QueryWire) -> SearchQuery {
    SearchQuery { column: q.column, vector: q.vector, k: q.k, options: q.options }
}

fn encode(value: &impl Serialize, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(MAGIC);
    serde_json::to_writer(buf, value)
        .map_err(|e| DataFusionError::Internal(format!("ailake plan encoding: {e}")))
}

/// The ailake payload of `buf`, when it is one.
fn ours(buf: &[u8]) -> Option<&[u8]> {
    buf.strip_prefix(MAGIC)
}

fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<T> {
    serde_json::from_slice(payload)
        .map_err(|e| DataFusionError::Internal(format!("ailake plan decoding: {e}")))
}

fn schema_bytes(schema: &SchemaRef) -> Result<Vec<u8>> {
    let proto: datafusion_proto::protobuf::Schema = schema.as_ref().try_into()?;
    Ok(proto.encode_to_vec())
}

fn schema_of(bytes: &[u8]) -> Result<SchemaRef> {
    let proto = datafusion_proto::protobuf::Schema::decode(bytes)
        .map_err(|e| DataFusionError::Internal(format!("ailake plan schema: {e}")))?;
    Ok(Arc::new(Schema::try_from(&proto)?))
}

fn filter_of(wire: Option<FilterWire>) -> Result<Option<ailake::Filter>> {
    wire.map(|w| {
        w.to_filter().ok_or_else(|| DataFusionError::Internal("ailake plan: unknown filter operator".into()))
    })
    .transpose()
}

impl LogicalExtensionCodec for AilakeCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.logical.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.logical.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let Some(payload) = ours(buf) else {
            return self.logical.try_decode_table_provider(buf, table_ref, schema, ctx);
        };
        Ok(match decode::<ProviderWire>(payload)? {
            ProviderWire::Table(t) => Arc::new(AilakeTable::from_source(self.source(&t)?, schema)),
            ProviderWire::Search { table, query, vector_columns } => {
                let query = query_of(query);
                Arc::new(VectorSearchTable {
                    source: self.source(&table)?,
                    dim: query.vector.len(),
                    query,
                    schema,
                    vector_columns,
                    param: None,
                })
            }
            ProviderWire::Text { table, query, vector_columns } => {
                Arc::new(TextSearchTable { source: self.source(&table)?, query, schema, vector_columns })
            }
        })
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(t) = node.as_any().downcast_ref::<AilakeTable>() {
            return encode(&ProviderWire::Table(table_wire(&t.source)), buf);
        }
        if let Some(s) = node.as_any().downcast_ref::<VectorSearchTable>() {
            if let Some(id) = &s.param {
                return Err(DataFusionError::Plan(format!(
                    "vector_search: parameter {id} is unbound; bind it before the plan is shipped"
                )));
            }
            let wire = ProviderWire::Search {
                table: table_wire(&s.source),
                query: query_wire(&s.query),
                vector_columns: s.vector_columns.clone(),
            };
            return encode(&wire, buf);
        }
        if let Some(t) = node.as_any().downcast_ref::<TextSearchTable>() {
            let wire = ProviderWire::Text {
                table: table_wire(&t.source),
                query: t.query.clone(),
                vector_columns: t.vector_columns.clone(),
            };
            return encode(&wire, buf);
        }
        self.logical.try_encode_table_provider(table_ref, node, buf)
    }
}

impl PhysicalExtensionCodec for AilakeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(payload) = ours(buf) else {
            return self.physical.try_decode(buf, inputs, ctx);
        };
        Ok(match decode::<ExecWire>(payload)? {
            ExecWire::Scan { table, schema, groups, filter, limit } => Arc::new(AilakeScanExec::new(
                self.source(&table)?,
                schema_of(&schema)?,
                groups,
                filter_of(filter)?,
                limit,
            )),
            ExecWire::Search { table, query, filter, schema, groups } => Arc::new(VectorSearchExec::new(
                self.source(&table)?,
                query_of(query),
                filter_of(filter)?,
                schema_of(&schema)?,
                groups,
            )),
            ExecWire::Merge { k } => {
                let input = inputs.first().ok_or_else(|| {
                    DataFusionError::Internal("ailake plan: VectorMergeExec without input".into())
                })?;
                Arc::new(VectorMergeExec::new(input.clone(), k))
            }
            ExecWire::Text { table, query, filter, schema } => Arc::new(TextSearchExec::new(
                self.source(&table)?,
                query,
                filter_of(filter)?,
                schema_of(&schema)?,
            )),
        })
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(s) = node.as_any().downcast_ref::<AilakeScanExec>() {
            let wire = ExecWire::Scan {
                table: table_wire(&s.source),
                schema: schema_bytes(&s.schema)?,
                groups: s.groups.clone(),
                filter: s.filter.as_ref().map(FilterWire::from),
                limit: s.limit,
            };
            return encode(&wire, buf);
        }
        if let Some(s) = node.as_any().downcast_ref::<VectorSearchExec>() {
            let wire = ExecWire::Search {
                table: table_wire(&s.source),
                query: query_wire(&s.query),
                filter: s.filter.as_ref().map(FilterWire::from),
                schema: schema_bytes(&s.schema)?,
                groups: s.groups.clone(),
            };
            return encode(&wire, buf);
        }
        if let Some(m) = node.as_any().downcast_ref::<VectorMergeExec>() {
            return encode(&ExecWire::Merge { k: m.k }, buf);
        }
        if let Some(t) = node.as_any().downcast_ref::<TextSearchExec>() {
            let wire = ExecWire::Text {
                table: table_wire(&t.source),
                query: t.query.clone(),
                filter: t.filter.as_ref().map(FilterWire::from),
                schema: schema_bytes(&t.schema)?,
            };
            return encode(&wire, buf);
        }
        self.physical.try_encode(node, buf)
    }
}
