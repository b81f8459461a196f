//! Paths typed into the app's prompts: `~` expansion, resolving against the
//! launch directory, and shell-like Tab completion.
//!
//! Pure: the directory listing comes in from the runtime as a list of
//! entries, so all of this is tested without touching the file system.

use std::path::PathBuf;

/// Where `~` and relative paths point.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Places {
    /// The directory rowsmith was started in.
    pub launch_dir: PathBuf,
    /// The user's home directory, when one is known.
    pub home: Option<PathBuf>,
    /// rowsmith's own data directory (the demo database lives there), when known.
    pub data_dir: Option<PathBuf>,
}

impl Places {
    /// The typed text as an absolute path: `~` and `~/…` start at the home
    /// directory, a relative path at the launch directory. `~user` is left
    /// as typed (it is a file name then, like in a quoted shell word).
    pub fn resolve(&self, text: &str) -> PathBuf {
        let expanded = match (&self.home, text) {
            (Some(home), "~") => home.clone(),
            (Some(home), _) => match text.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => PathBuf::from(text),
            },
            (None, _) => PathBuf::from(text),
        };
        if expanded.is_absolute() {
            expanded
        } else {
            self.launch_dir.join(expanded)
        }
    }

    /// The directory whose entries complete `text`.
    pub fn listing_dir(&self, text: &str) -> PathBuf {
        match split(tilde_dir(text)).0 {
            "" => self.launch_dir.clone(),
            dir => self.resolve(dir),
        }
    }
}

/// One entry of a directory, as the runtime lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub dir: bool,
}

/// What Tab does to the typed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text after completing: the unique match, or the longest common
    /// prefix of the matches.
    pub text: String,
    /// Every match, sorted, directories with a trailing `/`.
    pub candidates: Vec<String>,
}

/// Completes `text` from the entries of its directory like a shell does.
/// Hidden entries match only when the typed name starts with `.`.
pub fn complete(text: &str, entries: &[Entry]) -> Completion {
    let (dir, typed) = split(tilde_dir(text));
    let mut candidates: Vec<String> = entries
        .iter()
        .filter(|e| e.name.starts_with(typed))
        .filter(|e| typed.starts_with('.') || !e.name.starts_with('.'))
        .map(|e| {
            if e.dir {
                format!("{}/", e.name)
            } else {
                e.name.clone()
            }
        })
        .collect();
    candidates.sort();
    let completed = match candidates.as_slice() {
        [] => format!("{dir}{typed}"),
        [only] => format!("{dir}{only}"),
        many => format!("{dir}{}", common_prefix(many)),
    };
    Completion {
        text: completed,
        candidates,
    }
}

/// A lone `~` completes inside the home directory, as in a shell.
fn tilde_dir(text: &str) -> &str {
    if text == "~" { "~/" } else { text }
}

/// The directory part as typed (with its trailing `/`) and the name being typed.
fn split(text: &str) -> (&str, &str) {
    match text.rfind('/') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text),
    }
}

fn common_prefix(names: &[String]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut end = first.len();
    for name in &names[1..] {
        end = first
            .char_indices()
            .zip(name.chars())
            .find(|((_, a), b)| a != b)
            .map(|((i, _), _)| i)
            .unwrap_or(end.min(name.len()))
            .min(end);
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            launch_dir: PathBuf::from("/work/here"),
            home: Some(PathBuf::from("/home/ana")),
            data_dir: None,
        }
    }

    fn entries(names: &[&str]) -> Vec<Entry> {
        names
            .iter()
            .map(|n| Entry {
                name: n.trim_end_matches('/').to_string(),
                dir: n.ends_with('/'),
            })
            .collect()
    }

    #[test]
    fn resolves_tilde_and_relative_paths() {
        let p = places();
        assert_eq!(p.resolve("~"), PathBuf::from("/home/ana"));
        assert_eq!(p.resolve("~/out.csv"), PathBuf::from("/home/ana/out.csv"));
        assert_eq!(p.resolve("out.csv"), PathBuf::from("/work/here/out.csv"));
        assert_eq!(p.resolve("/tmp/x.csv"), PathBuf::from("/tmp/x.csv"));
        // Not a home: a file named `~bob` in the launch directory.
        assert_eq!(p.resolve("~bob"), PathBuf::from("/work/here/~bob"));
        let homeless = Places {
            home: None,
            ..places()
        };
        assert_eq!(homeless.resolve("~/a"), PathBuf::from("/work/here/~/a"));
    }

    #[test]
    fn lists_the_directory_of_the_typed_part() {
        let p = places();
        assert_eq!(p.listing_dir("us"), PathBuf::from("/work/here"));
        assert_eq!(p.listing_dir("~"), PathBuf::from("/home/ana/"));
        assert_eq!(p.listing_dir("~/Do"), PathBuf::from("/home/ana/"));
        assert_eq!(p.listing_dir("/tmp/a/b"), PathBuf::from("/tmp/a/"));
        assert_eq!(p.listing_dir("data/x"), PathBuf::from("/work/here/data/"));
    }

    #[test]
    fn completes_a_unique_match_with_a_slash_for_directories() {
        let e = entries(&["users.csv", "data/", "orders.json"]);
        assert_eq!(complete("us", &e).text, "users.csv");
        assert_eq!(complete("~/da", &e).text, "~/data/");
        assert_eq!(complete("/tmp/or", &e).text, "/tmp/orders.json");
    }

    #[test]
    fn completes_the_longest_common_prefix_and_lists_the_matches() {
        let e = entries(&["users_2024.csv", "users_2023.csv", "users/", "orders.csv"]);
        let c = complete("u", &e);
        assert_eq!(c.text, "users");
        assert_eq!(c.candidates, ["users/", "users_2023.csv", "users_2024.csv"]);
        let c = complete("users_", &e);
        assert_eq!(c.text, "users_202");
        // Nothing matches: the text stays, with no candidates.
        let c = complete("zz", &e);
        assert_eq!(c.text, "zz");
        assert!(c.candidates.is_empty());
    }

    #[test]
    fn hidden_entries_only_when_asked_for() {
        let e = entries(&[".env", ".config/", "export.csv"]);
        assert_eq!(complete("", &e).candidates, ["export.csv"]);
        assert_eq!(complete(".", &e).candidates, [".config/", ".env"]);
        assert_eq!(complete(".c", &e).text, ".config/");
    }

    #[test]
    fn a_lone_tilde_completes_in_the_home() {
        let e = entries(&["notes.csv"]);
        assert_eq!(complete("~", &e).text, "~/notes.csv");
        // Even a home with nothing to show completes to the folder, as a shell does.
        assert_eq!(complete("~", &[]).text, "~/");
    }

    #[test]
    fn common_prefix_keeps_whole_characters() {
        let names = vec![
            "café_a".to_string(),
            "café_b".to_string(),
            "cafés".to_string(),
        ];
        assert_eq!(common_prefix(&names), "café");
        assert_eq!(common_prefix(&["ab".into(), "abc".into()]), "ab");
    }
}
