//! Names derived from files and headers: a new table's name, its column
//! names, and an export's file name.

use std::path::Path;

/// A table name derived from a file name: `sales 2024.csv` -> `sales_2024`.
/// Letters, digits and `_` are kept; a name starting with a digit or with
/// SQLite's reserved `sqlite_` gets a `t_` in front.
pub fn table_name_for(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_alphanumeric() || c == '_' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_');
    if name.is_empty() {
        "imported".into()
    } else if name.starts_with(|c: char| c.is_ascii_digit()) || is_reserved(name) {
        format!("t_{name}")
    } else {
        name.to_string()
    }
}

/// Whether a name starts with SQLite's reserved `sqlite_`.
pub(super) fn is_reserved(name: &str) -> bool {
    name.len() >= 7 && name.as_bytes()[..7].eq_ignore_ascii_case(b"sqlite_")
}

/// Column names from a header: trimmed, empty ones named `column_N` (N its
/// position), repeats (compared as SQLite does, ignoring ASCII case) given
/// `_2`, `_3`, ...
pub(super) fn column_names(header: &[String]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(header.len());
    let mut out = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let trimmed = raw.trim().replace('\0', "");
        let base = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            trimmed
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.push(name.clone());
        out.push(name);
    }
    out
}

/// A file name for a table's export: `<table>.csv`, with the characters
/// file systems refuse (`/ \ : * ? " < > |` and control characters)
/// replaced by `_`.
pub fn export_file_name(table: &str) -> String {
    let cleaned: String = table
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if cleaned.is_empty() {
        "export.csv".into()
    } else {
        format!("{cleaned}.csv")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_deduplicated() {
        let header: Vec<String> = ["id", " Name ", "", "name", "NAME", "id"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            column_names(&header),
            ["id", "Name", "column_3", "name_2", "NAME_3", "id_2"]
        );
        assert_eq!(
            table_name_for(Path::new("/x/sales 2024 (final).csv")),
            "sales_2024_final"
        );
        assert_eq!(table_name_for(Path::new("2024.csv")), "t_2024");
        assert_eq!(
            table_name_for(Path::new("sqlite_stuff.json")),
            "t_sqlite_stuff"
        );
        assert_eq!(table_name_for(Path::new("...csv")), "imported");
        assert_eq!(export_file_name("a/b:c"), "a_b_c.csv");
        assert_eq!(export_file_name(".."), "export.csv");
    }
}
