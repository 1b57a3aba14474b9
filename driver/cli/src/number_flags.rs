//! The command line's numbers, bounded like the profile's (`viewdag_ir::number_bounds`): a
//! value out of range is a usage error (exit 2) carrying `V0008`, never a panic or an
//! overflow (`--task-timeout 18446744073709551615` failed every task with an overflow).

use viewdag_ir::Code;
use viewdag_ir::number_bounds::{EXECUTORS, JOBS, NumberBound, TASK_TIMEOUT_FLAG};

/// Parses `text` as a number within `bound`.
fn bounded(bound: NumberBound, text: &str) -> Result<u64, String> {
    let value: u64 = text.trim().parse().map_err(|_| {
        format!(
            "error[{}]: `{}` must be a whole number between {} and {}, not `{text}`",
            Code::ValueOutOfRange.id(),
            bound.setting,
            bound.min,
            bound.max
        )
    })?;
    bound.check(value).map_err(|error| format!("error[{}]: {error}", Code::ValueOutOfRange.id()))
}

/// `--jobs N`.
pub fn jobs(text: &str) -> Result<usize, String> {
    bounded(JOBS, text).map(|value| usize::try_from(value).unwrap_or(usize::MAX))
}

/// `--task-timeout SECS`.
pub fn task_timeout(text: &str) -> Result<u64, String> {
    bounded(TASK_TIMEOUT_FLAG, text)
}

/// `--executors N`.
pub fn executors(text: &str) -> Result<usize, String> {
    bounded(EXECUTORS, text).map(|value| usize::try_from(value).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_are_v0008() {
        assert_eq!(jobs("4"), Ok(4));
        assert!(jobs("0").unwrap_err().contains("V0008"));
        assert!(task_timeout("18446744073709551615").unwrap_err().contains("between 1 and 2592000"));
        assert!(task_timeout("18446744073709551616").unwrap_err().contains("whole number"));
        assert!(executors("1000").is_err());
    }
}
