//! The session settings viewdag sends with every cluster job unless the engine's own
//! settings (`run --cluster-setting KEY=VALUE`, [`crate::BallistaEngine::with_setting`]) say
//! otherwise: the choices that make a Ballista job cheaper than Ballista's and DataFusion's
//! single-process defaults would (measured in BENCHMARKS.md, "Local vs Ballista").
//!
//! - **Broadcast small join sides.** DataFusion's join selection plans a hash join whose
//!   smaller side is estimated under `hash_join_single_partition_threshold` bytes (or, without
//!   a byte estimate, `…_rows` rows) as `CollectLeft`; Ballista runs that side once as a
//!   one-partition stage every probe task reads (a broadcast), and the probe side is not
//!   shuffled. DataFusion's defaults (1 MiB, 128 Ki rows) are tuned for one process, where a
//!   partitioned join costs a repartition in memory; on a cluster it costs a shuffle of both
//!   sides, so TPC-H's dimension sides (`supplier`, `part`, `customer`, filtered `orders`)
//!   are worth broadcasting. 32 MiB is a quarter of Ballista's own broadcast budget
//!   (`ballista.optimizer.broadcast_join_threshold_bytes`, 128 MiB), since every probe task
//!   builds its own hash table of the broadcast side.
//!
//! ## Invariants
//! - Only settings that change how a plan is cut into stages and tasks are here, never what
//!   it computes: a job returns the same rows with or without them (the cluster tests
//!   compare every table with a local run's).
//! - The engine's settings win over these, key by key.

use std::collections::BTreeMap;

/// Bytes under which a hash join's estimated smaller side is broadcast (DataFusion: 1 MiB).
pub(crate) const BROADCAST_JOIN_BYTES: usize = 32 << 20;
/// Rows under which a hash join's smaller side without a byte estimate is broadcast
/// (DataFusion: 131,072).
pub(crate) const BROADCAST_JOIN_ROWS: usize = 1_000_000;

/// The settings every job carries by default, `(key, value)`.
pub(crate) fn cluster_defaults() -> Vec<(&'static str, String)> {
    vec![
        ("datafusion.optimizer.hash_join_single_partition_threshold", BROADCAST_JOIN_BYTES.to_string()),
        ("datafusion.optimizer.hash_join_single_partition_threshold_rows", BROADCAST_JOIN_ROWS.to_string()),
    ]
}

/// [`cluster_defaults`] overlaid with `settings` (the engine's): what a job is sent.
pub(crate) fn with_cluster_defaults(settings: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut merged: BTreeMap<String, String> = cluster_defaults().into_iter().map(|(key, value)| (key.to_string(), value)).collect();
    merged.extend(settings.iter().map(|(key, value)| (key.clone(), value.clone())));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_settings_win_over_the_defaults_key_by_key() {
        let engine: BTreeMap<String, String> = [
            ("datafusion.optimizer.hash_join_single_partition_threshold".to_string(), "1048576".to_string()),
            ("ballista.shuffle.compression.codec".to_string(), "none".to_string()),
        ]
        .into();
        let merged = with_cluster_defaults(&engine);
        assert_eq!(merged["datafusion.optimizer.hash_join_single_partition_threshold"], "1048576");
        assert_eq!(merged["datafusion.optimizer.hash_join_single_partition_threshold_rows"], BROADCAST_JOIN_ROWS.to_string());
        assert_eq!(merged["ballista.shuffle.compression.codec"], "none");
        assert_eq!(with_cluster_defaults(&BTreeMap::new()).len(), cluster_defaults().len());
    }

    #[test]
    fn every_default_is_a_setting_datafusion_and_ballista_accept() {
        let mut config = ballista_core::extension::SessionConfigExt::upgrade_for_ballista(datafusion::prelude::SessionConfig::new());
        for (key, value) in cluster_defaults() {
            assert!(config.options_mut().set(key, &value).is_ok(), "{key} = {value} is refused");
        }
        assert_eq!(config.options().optimizer.hash_join_single_partition_threshold, BROADCAST_JOIN_BYTES);
    }
}
