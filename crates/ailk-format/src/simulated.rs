//! [`SimulatedStore`]: an object store that behaves like a remote one — every request waits a
//! first-byte latency and transfers at a set bandwidth — and fails on demand (server errors,
//! timeouts, an upload cut off). Benchmarks measure the read path's round trips with it over
//! local files; tests inject faults with it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
};

use crate::sync::lock;

/// How far away the simulated store is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyProfile {
    /// Time to the first byte of every request (reads, writes, `HEAD`s, lists).
    pub first_byte: Duration,
    /// Transfer rate of one request's body, in bytes per second (requests in parallel each
    /// get it, as separate connections to S3 do).
    pub bytes_per_second: f64,
}

impl LatencyProfile {
    /// No delay at all (faults only).
    pub fn none() -> Self {
        LatencyProfile { first_byte: Duration::ZERO, bytes_per_second: f64::INFINITY }
    }

    fn transfer(&self, bytes: u64) -> Duration {
        if self.bytes_per_second.is_finite() && self.bytes_per_second > 0.0 {
            Duration::from_secs_f64(bytes as f64 / self.bytes_per_second)
        } else {
            Duration::ZERO
        }
    }
}

/// Which requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// Reads (`GET`, ranged or not, and `HEAD`).
    Reads,
    /// Writes (`PUT`, multipart uploads).
    Writes,
    /// Every request.
    All,
}

/// What a faulty request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The server answers 503 (S3's "slow down").
    ServerError,
    /// The request times out.
    Timeout,
    /// The connection drops mid-transfer: a read returns an error; an upload is never stored.
    ConnectionCut,
}

/// What went through a [`SimulatedStore`].
#[derive(Debug, Default)]
pub struct SimulatedStats {
    /// Read requests (`GET`s; each range of a coalesced multi-range read is its own request).
    pub reads: AtomicU64,
    /// `HEAD` requests.
    pub heads: AtomicU64,
    /// Bytes returned by reads.
    pub bytes_read: AtomicU64,
    /// Write requests (`PUT`s and multipart uploads).
    pub writes: AtomicU64,
    /// Times the store went from idle to busy: the sequential round trips of a workload whose
    /// requests are issued in waves.
    pub round_trips: AtomicU64,
    /// Requests failed on purpose.
    pub faults: AtomicU64,
    in_flight: AtomicU64,
}

/// A copy of [`SimulatedStats`] at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SimulatedSnapshot {
    /// See [`SimulatedStats::reads`].
    pub reads: u64,
    /// See [`SimulatedStats::heads`].
    pub heads: u64,
    /// See [`SimulatedStats::bytes_read`].
    pub bytes_read: u64,
    /// See [`SimulatedStats::writes`].
    pub writes: u64,
    /// See [`SimulatedStats::round_trips`].
    pub round_trips: u64,
    /// See [`SimulatedStats::faults`].
    pub faults: u64,
}

impl std::ops::Sub for SimulatedSnapshot {
    type Output = SimulatedSnapshot;
    fn sub(self, o: Self) -> Self {
        SimulatedSnapshot {
            reads: self.reads - o.reads,
            heads: self.heads - o.heads,
            bytes_read: self.bytes_read - o.bytes_read,
            writes: self.writes - o.writes,
            round_trips: self.round_trips - o.round_trips,
            faults: self.faults - o.faults,
        }
    }
}

impl SimulatedStats {
    /// The counters now.
    pub fn snapshot(&self) -> SimulatedSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SimulatedSnapshot {
            reads: g(&self.reads),
            heads: g(&self.heads),
            bytes_read: g(&self.bytes_read),
            writes: g(&self.writes),
            round_trips: g(&self.round_trips),
            faults: g(&self.faults),
        }
    }
}

/// Marks one request in flight for its lifetime.
struct InFlight<'a>(&'a SimulatedStats);

impl<'a> InFlight<'a> {
    fn start(stats: &'a SimulatedStats) -> Self {
        if stats.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            stats.round_trips.fetch_add(1, Ordering::Relaxed);
        }
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One planned fault: requests of `target` let through first, then how many fail.
#[derive(Debug)]
struct Planned {
    target: FaultTarget,
    fault: Fault,
    skip: u64,
    count: u64,
}

/// Faults still to inject, in order.
#[derive(Debug, Default)]
struct FaultPlan(Vec<Planned>);

/// A remote-like store over `inner`: see the module documentation.
pub struct SimulatedStore {
    inner: Arc<dyn ObjectStore>,
    profile: LatencyProfile,
    stats: Arc<SimulatedStats>,
    faults: Mutex<FaultPlan>,
}

impl fmt::Debug for SimulatedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatedStore").field("profile", &self.profile).finish()
    }
}

impl fmt::Display for SimulatedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Simulated({})", self.inner)
    }
}

impl SimulatedStore {
    /// `inner` as if it were `profile` away.
    pub fn new(inner: Arc<dyn ObjectStore>, profile: LatencyProfile) -> Self {
        SimulatedStore { inner, profile, stats: Arc::default(), faults: Mutex::default() }
    }

    /// The shared counters.
    pub fn stats(&self) -> Arc<SimulatedStats> {
        self.stats.clone()
    }

    /// Lets `skip` requests of `target` through, then fails one with `fault` (queued after
    /// earlier plans): a sweep over `skip` hits every request of a workload in turn.
    pub fn fail_after(&self, target: FaultTarget, fault: Fault, skip: u64) {
        self.plan(Planned { target, fault, skip, count: 1 });
    }

    fn plan(&self, p: Planned) {
        if p.count > 0 {
            lock(&self.faults).0.push(p);
        }
    }

    /// Failures still planned.
    pub fn faults_pending(&self) -> u64 {
        lock(&self.faults).0.iter().map(|f| f.count).sum()
    }

    /// Drops every planned fault.
    pub fn clear_faults(&self) {
        lock(&self.faults).0.clear();
    }

    /// The fault this request meets, if any.
    fn fault(&self, write: bool) -> Option<Fault> {
        let mut plan = lock(&self.faults);
        let next = plan.0.iter_mut().find(|p| match p.target {
            FaultTarget::All => true,
            FaultTarget::Reads => !write,
            FaultTarget::Writes => write,
        })?;
        if next.skip > 0 {
            next.skip -= 1;
            return None;
        }
        next.count -= 1;
        let fault = next.fault;
        plan.0.retain(|p| p.count > 0);
        self.stats.faults.fetch_add(1, Ordering::Relaxed);
        Some(fault)
    }

    async fn wait(&self, d: Duration) {
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// The error a fault returns, after the time it takes to happen.
    async fn fail(&self, fault: Fault, location: &Path) -> object_store::Error {
        let what = match fault {
            Fault::ServerError => "503 Slow Down (simulated)",
            Fault::Timeout => {
                self.wait(self.profile.first_byte * 4).await;
                "request timed out (simulated)"
            }
            Fault::ConnectionCut => "connection reset by peer (simulated)",
        };
        object_store::Error::Generic { store: "Simulated", source: format!("{location}: {what}").into() }
    }
}

#[async_trait::async_trait]
impl ObjectStore for SimulatedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let _busy = InFlight::start(&self.stats);
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.wait(self.profile.first_byte + self.profile.transfer(payload.content_length() as u64)).await;
        if let Some(fault) = self.fault(true) {
            // The object is never stored: S3 PUTs are atomic.
            return Err(self.fail(fault, location).await);
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let _busy = InFlight::start(&self.stats);
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.wait(self.profile.first_byte).await;
        if let Some(fault) = self.fault(true) {
            return Err(self.fail(fault, location).await);
        }
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let _busy = InFlight::start(&self.stats);
        let head = options.head;
        if head {
            self.stats.heads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.reads.fetch_add(1, Ordering::Relaxed);
        }
        self.wait(self.profile.first_byte).await;
        if let Some(fault) = self.fault(false) {
            return Err(self.fail(fault, location).await);
        }
        let result = self.inner.get_opts(location, options).await?;
        if head {
            return Ok(result);
        }
        // Buffer the body so its transfer time is paid here, inside the request.
        let (meta, range, attributes) =
            (result.meta.clone(), result.range.clone(), result.attributes.clone());
        let bytes = result.bytes().await?;
        self.stats.bytes_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.wait(self.profile.transfer(bytes.len() as u64)).await;
        let body = futures::stream::once(async move { Ok(bytes) });
        Ok(GetResult { payload: GetResultPayload::Stream(Box::pin(body)), meta, range, attributes })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let _busy = InFlight::start(&self.stats);
        self.wait(self.profile.first_byte).await;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        let _busy = InFlight::start(&self.stats);
        self.wait(self.profile.first_byte).await;
        if let Some(fault) = self.fault(true) {
            return Err(self.fail(fault, to).await);
        }
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        let _busy = InFlight::start(&self.stats);
        self.wait(self.profile.first_byte).await;
        if let Some(fault) = self.fault(true) {
            return Err(self.fail(fault, to).await);
        }
        self.inner.rename_opts(from, to, options).await
    }
}
