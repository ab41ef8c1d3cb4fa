//! Accent- and case-insensitive search: `chateau` finds `Château`.
//!
//! The database folds text with `search_fold()` (unaccent + lower, see the first migration); the
//! query term is folded by the same function, so both sides always agree.

use diesel::sql_types::Text;

diesel::define_sql_function! {
    /// `lower(unaccent(text))`, immutable so it can back an index.
    fn search_fold(value: Text) -> Text;
}

/// The `LIKE` pattern matching `term` anywhere, with `%`, `_` and `\` taken literally.
pub fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::contains_pattern(" 50%_a\\ "), "%50\\%\\_a\\\\%");
    }
}
