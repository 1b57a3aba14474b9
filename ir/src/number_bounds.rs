//! Bounds for every number a user gives viewdag outside a view: the profile's settings
//! (`target_partitions`, `batch_size`, `optimizer.max_passes`, `engine.task_timeout`) and
//! the command line's (`--jobs`, `--task-timeout`, `--executors`). A number out of its
//! bounds is `V0008 value-out-of-range` in a spec and a usage error on the command line,
//! never a panic, an overflow or a 24 GB aggregate.
//!
//! Why each bound: DataFusion allocates per partition and per batch row up front (a 2-row
//! aggregate under `target_partitions: 100000` grew to 24 GB; a huge `batch_size` panics a
//! task allocating its first batch); a timeout is added to the clock (`u64::MAX` seconds
//! overflows it); every job and executor is a thread or a process.
//!
//! ## Invariants
//! - Every bound is inclusive and its minimum is at least 1.
//! - [`NumberBound::clamp`] gives a value inside the bounds for any input, so code that
//!   must go on after reporting (planning with the profile) never sees an absurd value.

use crate::diagnostic::{Code, Diagnostic, Section, SpecLocation};
use crate::spec::{FieldPath, OptimizerProfile, ProfileSpec};

/// The accepted range of one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberBound {
    /// Where the number is written (`profile.batch_size`, `--jobs`).
    pub setting: &'static str,
    pub min: u64,
    pub max: u64,
}

/// A number outside its bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{setting}` is {value}; it must be between {min} and {max}")]
pub struct OutOfRange {
    pub setting: &'static str,
    pub value: u64,
    pub min: u64,
    pub max: u64,
}

impl NumberBound {
    /// `value` when it lies within the bounds.
    pub fn check(&self, value: u64) -> Result<u64, OutOfRange> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(OutOfRange { setting: self.setting, value, min: self.min, max: self.max })
        }
    }

    /// The nearest value within the bounds.
    pub fn clamp(&self, value: u64) -> u64 {
        value.clamp(self.min, self.max)
    }

    /// [`NumberBound::clamp`] for a `usize` setting.
    pub fn clamp_usize(&self, value: usize) -> usize {
        usize::try_from(self.clamp(u64::try_from(value).unwrap_or(u64::MAX))).unwrap_or(usize::MAX)
    }
}

/// DataFusion's partitions per plan stage.
pub const TARGET_PARTITIONS: NumberBound = NumberBound { setting: "profile.target_partitions", min: 1, max: 1024 };
/// Rows per DataFusion batch.
pub const BATCH_SIZE: NumberBound = NumberBound { setting: "profile.batch_size", min: 1, max: 1 << 20 };
/// Passes of the logical optimizer phase.
pub const MAX_PASSES: NumberBound = NumberBound { setting: "profile.optimizer.max_passes", min: 1, max: 100 };
/// Seconds a task's cluster job may run: at most 30 days.
pub const TASK_TIMEOUT_SECONDS: NumberBound = NumberBound { setting: "profile.engine.task_timeout", min: 1, max: 30 * 24 * 3600 };
/// `--task-timeout` on the command line (the same bound).
pub const TASK_TIMEOUT_FLAG: NumberBound = NumberBound { setting: "--task-timeout", ..TASK_TIMEOUT_SECONDS };
/// Tasks executing at once (`--jobs`).
pub const JOBS: NumberBound = NumberBound { setting: "--jobs", min: 1, max: 1024 };
/// Executor processes of a local cluster (`viewdag cluster --executors`).
pub const EXECUTORS: NumberBound = NumberBound { setting: "--executors", min: 1, max: 64 };

fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// `V0008` for every number of `profile` outside its bounds, at its key.
pub fn profile_number_problems(profile: &ProfileSpec) -> Vec<Diagnostic> {
    let mut numbers: Vec<(NumberBound, u64, &[&str])> = Vec::new();
    if let Some(value) = profile.target_partitions {
        numbers.push((TARGET_PARTITIONS, to_u64(value), &["target_partitions"]));
    }
    if let Some(value) = profile.batch_size {
        numbers.push((BATCH_SIZE, to_u64(value), &["batch_size"]));
    }
    if let Some(OptimizerProfile::Inline(inline)) = &profile.optimizer
        && let Some(value) = inline.max_passes
    {
        numbers.push((MAX_PASSES, to_u64(value), &["optimizer", "max_passes"]));
    }
    if let Some(value) = profile.engine.task_timeout {
        numbers.push((TASK_TIMEOUT_SECONDS, value, &["engine", "task_timeout"]));
    }
    numbers
        .into_iter()
        .filter_map(|(bound, value, field)| {
            let out_of_range = bound.check(value).err()?;
            let location = SpecLocation { section: Section::Profile, ..SpecLocation::root() }
                .with_field(FieldPath(field.iter().map(|key| key.to_string()).collect()));
            Some(Diagnostic::new(Code::ValueOutOfRange, location, out_of_range.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_numbers_are_reported_and_clamped() {
        let profile: ProfileSpec = serde_json::from_value(serde_json::json!({
            "target_partitions": 18446744073709551615u64,
            "batch_size": 0,
            "optimizer": { "max_passes": 100000 },
            "engine": { "task_timeout": 18446744073709551615u64 }
        }))
        .unwrap();
        let problems = profile_number_problems(&profile);
        let fields: Vec<Vec<String>> = problems.iter().map(|problem| problem.location.field.0.clone()).collect();
        assert_eq!(
            fields,
            [vec!["target_partitions"], vec!["batch_size"], vec!["optimizer", "max_passes"], vec!["engine", "task_timeout"]]
        );
        assert!(problems.iter().all(|problem| problem.code == Code::ValueOutOfRange));
        assert_eq!(TARGET_PARTITIONS.clamp_usize(usize::MAX), 1024);
        assert_eq!(BATCH_SIZE.clamp_usize(0), 1);
        assert!(profile_number_problems(&ProfileSpec::default()).is_empty());
        assert_eq!(JOBS.check(4), Ok(4));
    }
}
