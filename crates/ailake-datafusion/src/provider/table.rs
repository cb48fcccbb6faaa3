//! [`AilakeTable`]: an ailake table as a DataFusion table, for SQL scans of its rows.
//!
//! One snapshot is read: the table handle's (time travel with `Table::at_snapshot` or the
//! `ailake_scan(table, snapshot_id)` function). Filters prune before anything is read — data
//! files by the column bounds Iceberg records, row groups by their Parquet statistics — and
//! DataFusion still evaluates them on the rows (`Inexact`). Position deletes are honoured.
//! The data files are split into groups of about equal bytes, one partition each.

use std::any::Any;
use std::sync::Arc;

use ailake::{file_may_match, Filter, LiveFile};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::error::to_df;
use crate::exec::scan::AilakeScanExec;
use crate::filter_expr::to_filter;
use crate::schema::sql_schema;
use crate::source::TableSource;

/// One snapshot of an ailake table as a DataFusion table (SQL scans of its rows).
#[derive(Debug, Clone)]
pub struct AilakeTable {
    pub(crate) source: TableSource,
    schema: SchemaRef,
}

impl AilakeTable {
    /// The snapshot `table` reads.
    pub fn new(table: &ailake::Table) -> Result<Self> {
        Ok(Self { source: TableSource::of(table), schema: sql_schema(table)? })
    }

    pub(crate) fn from_source(source: TableSource, schema: SchemaRef) -> Self {
        Self { source, schema }
    }

    /// The snapshot read (`None` for a table without commits).
    pub fn snapshot_id(&self) -> Option<i64> {
        self.source.snapshot
    }
}

#[async_trait]
impl TableProvider for AilakeTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if to_filter(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let session = self.source.session().await?;
        let table = session.table();
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        // Every filter that translates prunes (the rows are still filtered by DataFusion).
        let filter = filters.iter().filter_map(to_filter).reduce(Filter::and);
        let files = table.live_files().await.map_err(to_df)?;
        let mut kept: Vec<&LiveFile> = files
            .iter()
            .filter(|f| filter.as_ref().is_none_or(|flt| file_may_match(flt, &f.data_file, table.schema())))
            .collect();
        // Largest first onto the lightest group: groups of about equal bytes.
        kept.sort_by_key(|f| std::cmp::Reverse(f.data_file.file_size_in_bytes()));
        let parts = state.config_options().execution.target_partitions.clamp(1, kept.len().max(1));
        let mut groups: Vec<(u64, Vec<String>)> = vec![(0, Vec::new()); parts];
        for f in kept {
            let lightest = groups.iter_mut().min_by_key(|g| g.0).expect("at least one group");
            lightest.0 += f.data_file.file_size_in_bytes();
            lightest.1.push(f.path().to_string());
        }
        let groups = groups.into_iter().map(|g| g.1).collect();
        Ok(Arc::new(AilakeScanExec::new(self.source.clone(), schema, groups, filter, limit)))
    }
}
