//! A task's identity: the materialization of a view, or an output. Written `view:NAME` and
//! `output:NAME` wherever a task is named for people or saved (run state, reports), and
//! parsed back from that text only here.
//!
//! ## Invariants
//! - `TaskId::parse(id.to_string()) == Some(id)` for every id; names may contain `:`.
//! - Ordered by kind (views before outputs), then name: a stable order for maps.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which task: a `materialize: table` view's, or an output's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskId {
    /// The task that writes the materialized view of this name.
    View(String),
    /// The task that writes the output of this name.
    Output(String),
}

impl TaskId {
    /// Parses `view:NAME` or `output:NAME`.
    pub fn parse(text: &str) -> Option<TaskId> {
        if let Some(name) = text.strip_prefix("view:") {
            Some(TaskId::View(name.to_string()))
        } else {
            text.strip_prefix("output:").map(|name| TaskId::Output(name.to_string()))
        }
    }

    /// The view's or output's name.
    pub fn name(&self) -> &str {
        match self {
            TaskId::View(name) | TaskId::Output(name) => name,
        }
    }
}

impl fmt::Display for TaskId {
    /// `view:NAME` or `output:NAME`, honouring width and alignment (`{:<28}` pads it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            TaskId::View(name) => format!("view:{name}"),
            TaskId::Output(name) => format!("output:{name}"),
        };
        f.pad(&text)
    }
}

impl PartialEq<str> for TaskId {
    fn eq(&self, other: &str) -> bool {
        match self {
            TaskId::View(name) => other.strip_prefix("view:") == Some(name.as_str()),
            TaskId::Output(name) => other.strip_prefix("output:") == Some(name.as_str()),
        }
    }
}

impl PartialEq<&str> for TaskId {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TaskId, D::Error> {
        let text = String::deserialize(deserializer)?;
        TaskId::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a task id (`view:NAME` or `output:NAME`)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pad_to_a_width_like_any_text() {
        assert_eq!(format!("{:<12}|", TaskId::View("a".into())), "view:a      |");
        assert_eq!(format!("{:>10}|", TaskId::Output("b".into())), "  output:b|");
        assert_eq!(format!("{:<3}|", TaskId::Output("long".into())), "output:long|");
    }

    #[test]
    fn ids_print_and_parse_back() {
        for id in [TaskId::View("a".into()), TaskId::Output("out:with:colons".into()), TaskId::View(String::new())] {
            assert_eq!(TaskId::parse(&id.to_string()), Some(id.clone()));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<TaskId>(&json).unwrap(), id);
            assert!(id == id.to_string().as_str());
        }
        assert_eq!(TaskId::parse("table:a"), None);
        assert!(serde_json::from_str::<TaskId>("\"a\"").is_err());
        assert!(TaskId::View("a".into()) < TaskId::Output("a".into()));
    }
}
