//! Running ailake SQL on Apache Ballista: a session configuration carrying ailake's codecs
//! (wrapping Ballista's own), and an in-process cluster — a scheduler and executors on
//! loopback — for tests, benchmarks and single-machine runs.

use std::sync::Arc;

use ailake::Catalog;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::codec::AilakeCodec;

/// A Ballista session configuration whose plans may hold ailake tables and nodes: the
/// scheduler and executors decode them through `catalog` (the planner's catalog and
/// warehouse, as every process of the cluster sees them).
pub fn ballista_config(catalog: Catalog) -> SessionConfig {
    let codec = Arc::new(AilakeCodec::wrapping(
        catalog,
        Arc::new(BallistaLogicalExtensionCodec::default()),
        Arc::new(BallistaPhysicalExtensionCodec::default()),
    ));
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(codec.clone())
        .with_ballista_physical_extension_codec(codec)
}

/// Starts a Ballista scheduler and `executors` executors (each running `slots` tasks at
/// once) in this process, on loopback, configured from `state` (build it from
/// [`ballista_config`]); returns the scheduler's URL for `SessionContext::remote_with_state`.
/// They run until the process ends.
pub async fn start_local_cluster(state: &SessionState, executors: usize, slots: usize) -> Result<String> {
    let addr = ballista_scheduler::standalone::new_standalone_scheduler_from_state(state)
        .await
        .map_err(|e| DataFusionError::Configuration(format!("ballista scheduler: {e}")))?;
    let url = format!("http://localhost:{}", addr.port());
    let mut attempts = 0;
    let scheduler = loop {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(c) => break c,
            Err(e) if attempts >= 100 => {
                return Err(DataFusionError::Configuration(format!("ballista scheduler at {url}: {e}")))
            }
            Err(_) => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    for _ in 0..executors {
        ballista_executor::new_standalone_executor_from_state(scheduler.clone(), slots, state)
            .await
            .map_err(|e| DataFusionError::Configuration(format!("ballista executor: {e}")))?;
    }
    Ok(url)
}

/// A context whose queries run on the Ballista cluster at `scheduler_url` (as
/// [`start_local_cluster`] returns it), planned with `state` (build it from
/// [`ballista_config`], and register ailake's tables and functions on the context).
pub fn remote_context(scheduler_url: &str, state: SessionState) -> Result<SessionContext> {
    Ok(SessionContext::new_with_state(state.upgrade_for_ballista(scheduler_url.to_string())?))
}
