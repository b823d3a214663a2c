//! Assertions on lists of problems, for the tests of `schema` and `project`.

pub fn has(found: &[String], text: &str) -> bool {
    found.iter().any(|f| f.contains(text))
}

pub fn assert_has_all(found: &[String], texts: &[&str]) {
    for text in texts {
        assert!(has(found, text), "{text} in {found:?}");
    }
}
