//! CUDA kernels (feature `cuda`): cuBLAS SGEMM for the dot products behind k-means
//! assignment, PQ encoding and batched flat distances, plus two small NVRTC kernels that turn
//! products into distances or nearest ids on the device. The CUDA libraries are loaded at run
//! time (cudarc's dynamic loading), so a build with this feature runs on machines without
//! CUDA: [`available`] is then false and every caller uses its CPU path.

use std::sync::{Arc, Mutex, OnceLock};

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};

const SOURCE: &str = r#"
extern "C" __global__ void nearest_rows(const float* prod, const float* xn, const float* cn,
                                        int rows, int k, int ip,
                                        unsigned int* best_id, float* best_d) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows) return;
    const float* p = prod + (size_t)i * k;
    float bd = 3.402823466e38f;
    unsigned int bj = 0;
    for (int j = 0; j < k; ++j) {
        float d = ip ? -p[j] : fmaxf(xn[i] - 2.0f * p[j] + cn[j], 0.0f);
        if (d < bd) { bd = d; bj = (unsigned int)j; }
    }
    best_id[i] = bj;
    best_d[i] = bd;
}

extern "C" __global__ void dots_to_distances(float* prod, const float* qn, const float* bn,
                                             int q, int n, int metric) {
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (size_t)q * n) return;
    int i = (int)(t / n), j = (int)(t % n);
    float p = prod[t];
    prod[t] = metric == 0 ? fmaxf(qn[i] - 2.0f * p + bn[j], 0.0f) : (metric == 1 ? -p : 1.0f - p);
}
"#;

/// Rows per device batch (bounds device memory: rows × k floats of products).
const BATCH_ROWS: usize = 1 << 16;

struct Gpu {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    nearest_rows: CudaFunction,
    dots_to_distances: CudaFunction,
}

fn init() -> Option<Gpu> {
    // An operator's switch to the CPU path (and the GPU benchmark's CPU reference run).
    if std::env::var_os("AILAKE_DISABLE_CUDA").is_some_and(|v| v == "1") {
        return None;
    }
    // SAFETY: these only probe whether the shared libraries can be opened.
    let present = unsafe {
        cudarc::driver::sys::is_culib_present()
            && cudarc::cublas::sys::is_culib_present()
            && cudarc::nvrtc::sys::is_culib_present()
    };
    if !present {
        return None;
    }
    let ctx = CudaContext::new(0).ok()?;
    let stream = ctx.default_stream();
    let blas = CudaBlas::new(stream.clone()).ok()?;
    let ptx = cudarc::nvrtc::compile_ptx(SOURCE).ok()?;
    let module = ctx.load_module(ptx).ok()?;
    Some(Gpu {
        nearest_rows: module.load_function("nearest_rows").ok()?,
        dots_to_distances: module.load_function("dots_to_distances").ok()?,
        stream,
        blas,
    })
}

fn gpu() -> Option<&'static Mutex<Gpu>> {
    static GPU: OnceLock<Option<Mutex<Gpu>>> = OnceLock::new();
    GPU.get_or_init(|| init().map(Mutex::new)).as_ref()
}

/// Whether a usable CUDA device (driver, cuBLAS and NVRTC loadable, device 0 initialized,
/// kernels compiled) is present and `AILAKE_DISABLE_CUDA` is not `1`. Probed once.
pub fn available() -> bool {
    gpu().is_some()
}

type GpuResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Row-major `P = A · Bᵀ` (`a`: `ra × dim`, `b`: `rb × dim`, both row-major) on the device.
/// In cuBLAS's column-major terms that is `Pᵀ = B · Aᵀ`: `m = rb`, `n = ra`, `k = dim`.
fn gemm_abt(
    g: &Gpu,
    a: &CudaSlice<f32>,
    ra: usize,
    b: &CudaSlice<f32>,
    rb: usize,
    dim: usize,
) -> GpuResult<CudaSlice<f32>> {
    let mut p = g.stream.alloc_zeros::<f32>(ra * rb)?;
    let cfg = GemmConfig {
        transa: cublasOperation_t::CUBLAS_OP_T,
        transb: cublasOperation_t::CUBLAS_OP_N,
        m: i32::try_from(rb)?,
        n: i32::try_from(ra)?,
        k: i32::try_from(dim)?,
        alpha: 1.0f32,
        lda: i32::try_from(dim)?,
        ldb: i32::try_from(dim)?,
        beta: 0.0f32,
        ldc: i32::try_from(rb)?,
    };
    // SAFETY: `b` holds rb × dim, `a` ra × dim and `p` ra × rb values, matching the shapes
    // and leading dimensions declared in `cfg`.
    unsafe { g.blas.gemm(cfg, b, a, &mut p)? };
    Ok(p)
}

fn blocks(n: usize) -> GpuResult<LaunchConfig> {
    Ok(LaunchConfig::for_num_elems(u32::try_from(n)?))
}

/// Nearest row of `c` for every row of `x` (squared L2, or largest inner product), on the
/// device. `None` when no device is usable or a CUDA call fails (callers fall back to CPU).
pub fn nearest(
    x: &[f32],
    c: &[f32],
    c_norms: &[f32],
    dim: usize,
    inner_product: bool,
) -> Option<Vec<(u32, f32)>> {
    let g = gpu()?.lock().ok()?;
    nearest_on(&g, x, c, c_norms, dim, inner_product).ok()
}

fn nearest_on(
    g: &Gpu,
    x: &[f32],
    c: &[f32],
    c_norms: &[f32],
    dim: usize,
    ip: bool,
) -> GpuResult<Vec<(u32, f32)>> {
    let k = c.len() / dim;
    let dc = g.stream.clone_htod(c)?;
    let dcn = g.stream.clone_htod(c_norms)?;
    let mut out = Vec::with_capacity(x.len() / dim);
    for block in x.chunks(BATCH_ROWS * dim) {
        let rows = block.len() / dim;
        let norms: Vec<f32> = block.chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect();
        let dx = g.stream.clone_htod(block)?;
        let dxn = g.stream.clone_htod(&norms)?;
        let prod = gemm_abt(g, &dx, rows, &dc, k, dim)?;
        let mut ids = g.stream.alloc_zeros::<u32>(rows)?;
        let mut dists = g.stream.alloc_zeros::<f32>(rows)?;
        let (rows_i, k_i, ip_i) = (i32::try_from(rows)?, i32::try_from(k)?, i32::from(ip));
        let mut launch = g.stream.launch_builder(&g.nearest_rows);
        launch.arg(&prod).arg(&dxn).arg(&dcn).arg(&rows_i).arg(&k_i).arg(&ip_i).arg(&mut ids).arg(&mut dists);
        // SAFETY: the kernel reads rows × k products and rows / k norms and writes `rows`
        // ids and distances, exactly the buffers allocated above.
        unsafe { launch.launch(blocks(rows)?)? };
        let ids = g.stream.clone_dtoh(&ids)?;
        let dists = g.stream.clone_dtoh(&dists)?;
        out.extend(ids.into_iter().zip(dists));
    }
    Ok(out)
}

/// Distances (metric code: 0 = squared L2, 1 = −dot, 2 = 1 − dot) from each query to each
/// base row, row-major `queries × rows`, on the device.
pub fn distances(queries: &[f32], base: &[f32], dim: usize, metric_code: i32) -> Option<Vec<f32>> {
    let g = gpu()?.lock().ok()?;
    distances_on(&g, queries, base, dim, metric_code).ok()
}

fn distances_on(g: &Gpu, queries: &[f32], base: &[f32], dim: usize, metric: i32) -> GpuResult<Vec<f32>> {
    let (q, n) = (queries.len() / dim, base.len() / dim);
    let norms =
        |m: &[f32]| -> Vec<f32> { m.chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect() };
    let dq = g.stream.clone_htod(queries)?;
    let db = g.stream.clone_htod(base)?;
    let dqn = g.stream.clone_htod(&norms(queries))?;
    let dbn = g.stream.clone_htod(&norms(base))?;
    let mut prod = gemm_abt(g, &dq, q, &db, n, dim)?;
    let (q_i, n_i) = (i32::try_from(q)?, i32::try_from(n)?);
    let mut launch = g.stream.launch_builder(&g.dots_to_distances);
    launch.arg(&mut prod).arg(&dqn).arg(&dbn).arg(&q_i).arg(&n_i).arg(&metric);
    // SAFETY: the kernel rewrites the q × n products in place, reading q and n norms.
    unsafe { launch.launch(blocks(q * n)?)? };
    Ok(g.stream.clone_dtoh(&prod)?)
}
