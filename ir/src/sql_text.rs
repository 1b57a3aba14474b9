//! Lexical facts about a SQL text, found without parsing it: where its code is (outside
//! string literals and `--` comments), its identifiers, and where it names a relation — for
//! underlining a name in a diagnostic and for the editor's occurrences of a name.
//!
//! Invariants: byte offsets into the text given, always on character boundaries; one linear
//! scan, no recursion; a string literal or comment never yields a name.

/// The byte ranges of `query` outside string literals (`'…'`, an unclosed one runs to the
/// end) and `--` comments (to the end of the line), in order.
pub fn code_ranges(query: &str) -> Vec<(usize, usize)> {
    let bytes = query.as_bytes();
    let mut ranges = Vec::new();
    let (mut start, mut index) = (0, 0);
    while index < bytes.len() {
        let skipped_to = if bytes[index] == b'\'' {
            bytes[index + 1..].iter().position(|byte| *byte == b'\'').map_or(bytes.len(), |end| index + 1 + end + 1)
        } else if bytes[index] == b'-' && bytes.get(index + 1) == Some(&b'-') {
            bytes[index..].iter().position(|byte| *byte == b'\n').map_or(bytes.len(), |end| index + end)
        } else {
            index += 1;
            continue;
        };
        if start < index {
            ranges.push((start, index));
        }
        (start, index) = (skipped_to, skipped_to);
    }
    if start < bytes.len() {
        ranges.push((start, bytes.len()));
    }
    ranges
}

/// Byte ranges of the identifiers of a SQL text outside string literals and comments
/// (ASCII names; a quoted identifier's quotes are not part of it, the name inside counts).
pub fn identifiers_outside_strings(query: &str) -> Vec<(usize, usize)> {
    let bytes = query.as_bytes();
    let mut ranges = Vec::new();
    for (start, end) in code_ranges(query) {
        let mut index = start;
        while index < end {
            let byte = bytes[index];
            if byte.is_ascii_alphabetic() || byte == b'_' {
                let name_start = index;
                while index < end && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_') {
                    index += 1;
                }
                ranges.push((name_start, index));
            } else if byte.is_ascii_digit() {
                while index < end && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_' || bytes[index] == b'.') {
                    index += 1;
                }
            } else {
                index += 1;
            }
        }
    }
    ranges
}

/// The byte range where `query` names the relation `relation` (quoted or not, outside
/// literals and comments): the first whole occurrence right after `FROM`, `JOIN` or a comma,
/// else the first whole occurrence; `None` when the text never names it as such. `code` is
/// [`code_ranges`] of `query`, scanned once for all the relations a query reads.
pub fn relation_range(query: &str, code: &[(usize, usize)], relation: &str) -> Option<(usize, usize)> {
    let in_code = |start: usize| code.iter().any(|(from, to)| (*from..*to).contains(&start));
    let quoted = format!("\"{relation}\"");
    let mut found: Vec<(usize, usize)> = [quoted.as_str(), relation]
        .into_iter()
        .flat_map(|word| whole_occurrences(query, word).map(move |start| (start, start + word.len())))
        .filter(|(start, _)| in_code(*start))
        .collect();
    found.sort_unstable();
    let after_keyword = |start: usize| {
        let before = query[..start].trim_end();
        before.ends_with(',') || ["from", "join"].iter().any(|keyword| ends_with_word(before, keyword))
    };
    found.iter().copied().find(|(start, _)| after_keyword(*start)).or_else(|| found.first().copied())
}

/// Whether `text` ends with `keyword` as a whole word, ignoring ASCII case.
fn ends_with_word(text: &str, keyword: &str) -> bool {
    let Some(start) = text.len().checked_sub(keyword.len()) else { return false };
    text.is_char_boundary(start)
        && text[start..].eq_ignore_ascii_case(keyword)
        && !text[..start].chars().next_back().is_some_and(is_name_char)
}

fn is_name_char(character: char) -> bool {
    character.is_alphanumeric() || matches!(character, '_' | '.' | '"')
}

/// Where `word` occurs in `text` not inside a longer name.
fn whole_occurrences<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(word).map(|(start, _)| start).filter(move |start| {
        let end = start + word.len();
        !text[..*start].chars().next_back().is_some_and(is_name_char) && !text[end..].chars().next().is_some_and(is_name_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_what_literals_and_comments_leave() {
        let query = "SELECT 'a''b' -- c\nFROM t";
        let code: Vec<&str> = code_ranges(query).into_iter().map(|(start, end)| &query[start..end]).collect();
        assert_eq!(code, ["SELECT ", " ", "\nFROM t"]);
        assert_eq!(code_ranges("x = 'unclosed"), [(0, 4)]);
        assert_eq!(code_ranges("-- only a comment"), []);
    }

    #[test]
    fn sql_identifiers_skip_literals_and_comments() {
        let query = "SELECT a FROM orders WHERE s = 'orders' -- orders\n AND x1 > 2.5";
        let names: Vec<&str> = identifiers_outside_strings(query).into_iter().map(|(start, end)| &query[start..end]).collect();
        assert_eq!(names, ["SELECT", "a", "FROM", "orders", "WHERE", "s", "AND", "x1"]);
    }

    #[test]
    fn a_relation_is_located_where_the_query_reads_it() {
        let relation_range = |query: &str, relation: &str| relation_range(query, &code_ranges(query), relation);
        let query = "SELECT orders FROM customers c JOIN orders o ON c.id = o.id";
        assert_eq!(relation_range(query, "orders"), Some((36, 42)), "after JOIN, not the column");
        assert_eq!(relation_range("SELECT 1 FROM \"Mixed Case\"", "Mixed Case"), Some((14, 26)));
        assert_eq!(relation_range("SELECT * FROM a, orders_2, orders", "orders"), Some((27, 33)));
        assert_eq!(relation_range("SELECT * FROM public.orders", "public.orders"), Some((14, 27)));
        assert_eq!(relation_range("SELECT x FROM elsewhere", "orders"), None);
        let literal_first = "SELECT * FROM t WHERE note = 'from orders' -- from orders\n UNION SELECT * FROM orders";
        assert_eq!(relation_range(literal_first, "orders"), Some((79, 85)), "not inside a literal or a comment");
    }
}
