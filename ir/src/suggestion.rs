//! "Did you mean …?": the known name closest to a misspelled one, by Levenshtein distance
//! over characters (`strsim`). Every stage's suggestions come from here.
//!
//! Invariants: the answer depends only on the word and the set of candidates (ties go to the
//! smallest candidate, never to the order they came in); no candidate farther than the
//! threshold is ever suggested; a candidate that differs only in ASCII case (`ORDERS` for
//! `orders`: names are case-sensitive) is the closest there is.

/// The candidate closest to `word`, if close enough to be a likely typo: within a third of
/// the longer name's length (at least one edit).
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    nearest(word, candidates.iter().copied(), |candidate| (candidate.len().max(word.len()) / 3).max(1))
}

/// The candidate closest to `word` within `max_distance` edits.
pub fn closest_within<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>, max_distance: usize) -> Option<&'a str> {
    nearest(word, candidates, |_| max_distance)
}

fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>, threshold: impl Fn(&str) -> usize) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (if candidate.eq_ignore_ascii_case(word) { 0 } else { strsim::levenshtein(word, candidate) }, candidate))
        .filter(|(distance, candidate)| *distance <= threshold(candidate))
        .min()
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::{closest, closest_within};

    #[test]
    fn near_names_are_suggested_and_far_ones_are_not() {
        assert_eq!(closest("amout", &["amount", "status", "id"]), Some("amount"));
        assert_eq!(closest("zzzzzz", &["amount", "status"]), None);
        assert_eq!(closest_within("defualt", ["default", "none"], 2), Some("default"));
        assert_eq!(closest_within("xyz", ["default", "none"], 2), None);
        // A tie goes to the smallest name, whatever the order of the candidates.
        assert_eq!(closest_within("ab", ["ac", "aa"], 1), Some("aa"));
        assert_eq!(closest_within("ab", ["aa", "ac"], 1), Some("aa"));
        // Case alone is the smallest difference, however many letters it changes.
        assert_eq!(closest("ORDER_ID", &["order_id", "ORDER_IDS"]), Some("order_id"));
        assert_eq!(closest_within("ORDERS", ["orders", "ORDER"], 1), Some("orders"));
    }
}
