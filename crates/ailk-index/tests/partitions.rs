//! Table partitions: routing equals a brute-force nearest centroid, occupancy counts every
//! row once, the codec round-trips and rejects damaged bytes with `Corrupt`.

use ailk_index::{kernels, IndexError, Metric, Partitions};
use ailk_testkit::synthetic::gaussian_mixture;
use proptest::prelude::*;

const DIM: usize = 8;

fn trained(rows: usize, count: usize, metric: Metric) -> (Vec<f32>, Partitions) {
    let mut data = gaussian_mixture(rows, DIM, 6, 0.4, 7);
    if metric == Metric::Cosine {
        data.chunks_exact_mut(DIM).for_each(kernels::normalize);
    }
    let p = Partitions::train(&data, DIM, metric, count, 3).unwrap();
    (data, p)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn routing_is_the_nearest_centroid(rows in 20usize..300, count in 1usize..24, cosine in any::<bool>()) {
        let metric = if cosine { Metric::Cosine } else { Metric::L2 };
        let (data, p) = trained(rows, count, metric);
        prop_assert_eq!(p.len(), count.min(rows));
        let assigned = p.assign(&data);
        for (v, &got) in data.chunks_exact(DIM).zip(&assigned) {
            let best = p.centroids.chunks_exact(DIM).map(|c| kernels::l2_sq(v, c)).fold(f32::INFINITY, f32::min);
            let d = kernels::l2_sq(v, &p.centroids[got as usize * DIM..(got as usize + 1) * DIM]);
            prop_assert!(d <= best + 1e-4 * (1.0 + best), "row routed to a farther centroid: {d} > {best}");
        }
        let occ = p.occupancy(&data);
        prop_assert_eq!(occ.iter().map(|c| c.1 as usize).sum::<usize>(), rows);
        prop_assert!(occ.windows(2).all(|w| w[0].0 < w[1].0));
        let near = p.nearest(&data[..DIM], 3);
        prop_assert_eq!(near[0], assigned[0]);
        prop_assert_eq!(near.len(), 3.min(p.len()));
    }
}

#[test]
fn the_codec_round_trips_and_damage_is_corrupt() {
    let (_, p) = trained(200, 12, Metric::Cosine);
    let bytes = p.to_bytes();
    assert_eq!(Partitions::from_bytes(&bytes).unwrap(), p);
    for cut in 0..bytes.len() {
        assert!(matches!(Partitions::from_bytes(&bytes[..cut]), Err(IndexError::Corrupt(_))), "cut {cut}");
    }
    let mut nan = bytes.clone();
    let at = nan.len() - 4;
    nan[at..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(matches!(Partitions::from_bytes(&nan), Err(IndexError::Corrupt(_))));
    let mut metric = bytes.clone();
    metric[16] = 9;
    assert!(matches!(Partitions::from_bytes(&metric), Err(IndexError::Corrupt(_))));
    let mut longer = bytes;
    longer.push(0);
    assert!(matches!(Partitions::from_bytes(&longer), Err(IndexError::Corrupt(_))));
}
