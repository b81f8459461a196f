//! The offline generator on free text: titles, album names and review
//! sentences are written anew (never copied from the table) in the column's
//! own distribution of word counts, lengths, case and punctuation, while
//! categorical text and people's names keep their own generators.
//!
//! The fixtures in tests/fixtures are invented titles and comments in the
//! style of a music store (Chinook-like) and a shop's reviews.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::Fixture;
use rowsmith::generate::job::{Event, GenerateRequest, Outcome, Source, spawn};
use rusqlite::Connection;
use tokio_util::sync::CancellationToken;

const SMALL_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "by", "with", "from", "as",
];

/// A table loaded from one of the CSV fixtures, with a rowid key.
fn fixture_table(fx: &Fixture, db: &str, table: &str, columns: &str, csv_name: &str) -> PathBuf {
    let path = fx.db(
        db,
        &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, {columns});"),
    );
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(csv_name);
    let mut reader = csv::Reader::from_path(file).unwrap();
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let conn = Connection::open(&path).unwrap();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        vec!["?"; names.len()].join(", ")
    );
    for record in reader.records() {
        let record = record.unwrap();
        conn.execute(&sql, rusqlite::params_from_iter(record.iter()))
            .unwrap();
    }
    path
}

async fn generate(fx: &Fixture, path: &Path, table: &str, rows: u64, seed: u64) {
    let mut request = GenerateRequest::new(path, table, rows);
    request.seed = Some(seed);
    request.journal_path = Some(fx.data_dir().join("journal.sqlite"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = spawn(request, Source::Offline, tx, CancellationToken::new());
    let mut outcome = None;
    while let Some(e) = rx.recv().await {
        if let Event::Finished(o) = e {
            outcome = Some(o);
        }
    }
    job.await.unwrap();
    match outcome.unwrap() {
        Outcome::Done(s) => assert_eq!(s.rows_added, rows, "{table}: {:?}", s.shortfall),
        other => panic!("{table}: {other:?}"),
    }
}

fn texts(path: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Lower case, letters and digits only: "Can't Stop!" equals "can t stop".
fn normalised(v: &str) -> String {
    v.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn copies(real: &[String], made: &[String]) -> Vec<String> {
    let seen: HashSet<String> = real.iter().map(|v| normalised(v)).collect();
    made.iter()
        .filter(|v| seen.contains(&normalised(v)))
        .cloned()
        .collect()
}

fn words(v: &str) -> usize {
    v.split_whitespace().count()
}

fn mean(values: &[String], f: impl Fn(&str) -> f64) -> f64 {
    values.iter().map(|v| f(v)).sum::<f64>() / values.len() as f64
}

fn share(values: &[String], f: impl Fn(&str) -> bool) -> f64 {
    values.iter().filter(|v| f(v)).count() as f64 / values.len() as f64
}

/// The lower-case words inside a value that are neither small words nor
/// the start of a sentence: none in Title Case, most in sentence case.
fn lower_inner_words(v: &str) -> usize {
    let mut after_stop = true;
    let mut count = 0;
    for w in v.split_whitespace() {
        let first = w.chars().find(|c| c.is_alphabetic());
        if !after_stop
            && first.is_some_and(char::is_lowercase)
            && !SMALL_WORDS.contains(&w.to_lowercase().as_str())
        {
            count += 1;
        }
        after_stop = w.ends_with(['.', '!', '?']);
    }
    count
}

#[tokio::test(flavor = "multi_thread")]
async fn song_titles_are_new_and_keep_their_shape() {
    let fx = Fixture::new();
    let columns = "name TEXT NOT NULL, genre TEXT, milliseconds INTEGER, unit_price REAL";
    let path = fixture_table(&fx, "tracks.db", "tracks", columns, "tracks.csv");
    let real = texts(&path, "SELECT name FROM tracks ORDER BY id");
    let n_real = real.len();
    generate(&fx, &path, "tracks", 500, 7).await;
    let made = texts(
        &path,
        &format!("SELECT name FROM tracks WHERE id > {n_real} ORDER BY id"),
    );
    assert_eq!(made.len(), 500);

    let copied = copies(&real, &made);
    assert!(copied.is_empty(), "copied titles: {copied:?}");
    // Mostly distinct, like the real titles.
    let distinct = made.iter().collect::<HashSet<_>>().len();
    assert!(distinct >= 450, "{distinct} distinct of 500");

    // Word counts: a generator of two-word titles fails every one of these.
    let (mean_real, mean_made) = (
        mean(&real, |v| words(v) as f64),
        mean(&made, |v| words(v) as f64),
    );
    assert!(
        (mean_made - mean_real).abs() <= 0.1 * mean_real,
        "mean words {mean_made:.2} vs {mean_real:.2}"
    );
    for (what, test) in [
        (
            "one word",
            &(|v: &str| words(v) == 1) as &dyn Fn(&str) -> bool,
        ),
        ("five or more words", &|v: &str| words(v) >= 5),
    ] {
        let (r, m) = (share(&real, test), share(&made, test));
        assert!((r - m).abs() <= 0.06, "{what}: {m:.3} vs {r:.3}");
    }
    let (chars_real, chars_made) = (
        mean(&real, |v| v.chars().count() as f64),
        mean(&made, |v| v.chars().count() as f64),
    );
    assert!(
        (chars_made - chars_real).abs() <= 0.1 * chars_real,
        "mean length {chars_made:.1} vs {chars_real:.1}"
    );

    // Punctuation the real titles have, in proportion (within half to twice).
    for (what, mark) in [("brackets", '('), ("commas", ','), ("apostrophes", '\'')] {
        let (r, m) = (
            share(&real, |v| v.contains(mark)),
            share(&made, |v| v.contains(mark)),
        );
        assert!(r > 0.0);
        assert!(
            m >= 0.5 * r && m <= 2.0 * r,
            "{what}: {m:.3} of generated titles vs {r:.3}"
        );
    }
    // Balanced brackets, and Title Case as in the column.
    assert!(
        made.iter()
            .all(|v| v.matches('(').count() == v.matches(')').count()),
        "{made:?}"
    );
    let title_case = share(&made, |v| {
        v.chars().next().is_some_and(|c| !c.is_lowercase()) && lower_inner_words(v) == 0
    });
    assert!(title_case >= 0.9, "Title Case share {title_case:.3}");

    // The genre is a category: real values, in the real shares.
    let genres = |filter: &str| -> BTreeMap<String, f64> {
        let values = texts(&path, &format!("SELECT genre FROM tracks WHERE {filter}"));
        let mut out = BTreeMap::new();
        for g in &values {
            *out.entry(g.clone()).or_insert(0.0) += 1.0 / values.len() as f64;
        }
        out
    };
    let (old, new) = (
        genres(&format!("id <= {n_real}")),
        genres(&format!("id > {n_real}")),
    );
    assert!(new.keys().all(|g| old.contains_key(g)), "{new:?}");
    for (g, s) in &old {
        let m = new.get(g).copied().unwrap_or(0.0);
        assert!((s - m).abs() <= 0.08, "genre {g}: {m:.3} vs {s:.3}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn album_titles_are_never_copied_and_repeat_with_a_seed() {
    let fx = Fixture::new();
    let columns = "title TEXT, released INTEGER";
    let a = fixture_table(&fx, "a.db", "albums", columns, "albums.csv");
    let b = fixture_table(&fx, "b.db", "albums", columns, "albums.csv");
    let c = fixture_table(&fx, "c.db", "albums", columns, "albums.csv");
    let real = texts(&a, "SELECT title FROM albums ORDER BY id");
    let n_real = real.len();
    generate(&fx, &a, "albums", 300, 21).await;
    generate(&fx, &b, "albums", 300, 21).await;
    generate(&fx, &c, "albums", 300, 22).await;
    let made = |p: &Path| {
        texts(
            p,
            &format!("SELECT title FROM albums WHERE id > {n_real} ORDER BY id"),
        )
    };
    let from_a = made(&a);
    let copied = copies(&real, &from_a);
    assert!(copied.is_empty(), "copied album titles: {copied:?}");
    assert_eq!(from_a, made(&b));
    assert_ne!(from_a, made(&c));
    // Commas ("Greatest Hits, Vol. 2") and colons ("Bach: ...") still occur.
    assert!(share(&from_a, |v| v.contains(',')) > 0.0);
    assert!(share(&from_a, |v| v.contains(':')) > 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_sentences_keep_sentence_case_length_and_periods() {
    let fx = Fixture::new();
    let columns = "comment TEXT NOT NULL, rating INTEGER";
    let path = fixture_table(&fx, "reviews.db", "reviews", columns, "reviews.csv");
    let real = texts(&path, "SELECT comment FROM reviews ORDER BY id");
    let n_real = real.len();
    generate(&fx, &path, "reviews", 300, 5).await;
    let made = texts(
        &path,
        &format!("SELECT comment FROM reviews WHERE id > {n_real} ORDER BY id"),
    );
    let copied = copies(&real, &made);
    assert!(copied.is_empty(), "copied comments: {copied:?}");
    let sentence =
        |v: &str| v.chars().next().is_some_and(char::is_uppercase) && lower_inner_words(v) > 0;
    let (r, m) = (share(&real, sentence), share(&made, sentence));
    assert!(m >= r - 0.1, "sentence case {m:.3} vs {r:.3}");
    let period = |v: &str| v.ends_with(['.', '!']);
    let (r, m) = (share(&real, period), share(&made, period));
    assert!((r - m).abs() <= 0.1, "ending mark {m:.3} vs {r:.3}");
    let (wr, wm) = (
        mean(&real, |v| words(v) as f64),
        mean(&made, |v| words(v) as f64),
    );
    assert!(
        (wm - wr).abs() <= 0.15 * wr,
        "mean words {wm:.2} vs {wr:.2}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn people_in_a_name_column_and_repeated_notes_keep_their_generators() {
    let fx = Fixture::new();
    let path = fx.db(
        "people.db",
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE f (n TEXT); CREATE TABLE l (n TEXT);
         INSERT INTO f VALUES ('Ada'), ('Grace'), ('Alan'), ('Edsger'), ('Barbara'), ('Donald'), ('Frances'), ('Ken');
         INSERT INTO l VALUES ('Lovelace'), ('Hopper'), ('Turing'), ('Dijkstra'), ('Liskov'), ('Knuth'), ('Allen'), ('Thompson');
         INSERT INTO people (name) SELECT f.n || ' ' || l.n FROM f, l;",
    );
    generate(&fx, &path, "people", 100, 3).await;
    let made = texts(&path, "SELECT name FROM people WHERE id > 64");
    // Two capitalised words of letters (O'Connell, Smith-Jones too): a person's name, not
    // recombined text.
    assert!(
        made.iter().all(|v| {
            let w: Vec<&str> = v.split_whitespace().collect();
            w.len() == 2
                && w.iter().all(|x| {
                    x.chars().next().is_some_and(char::is_uppercase)
                        && x.chars()
                            .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
                })
        }),
        "{made:?}"
    );

    // Notes repeat ("Leave at back door"): a category, taken from the table.
    let demo = fx.path("demo.db");
    rowsmith::db::demo::create_demo(&demo).unwrap();
    let real: HashSet<String> = texts(&demo, "SELECT notes FROM orders WHERE notes IS NOT NULL")
        .into_iter()
        .collect();
    generate(&fx, &demo, "orders", 200, 4).await;
    let made = texts(
        &demo,
        "SELECT notes FROM orders WHERE id > 200 AND notes IS NOT NULL",
    );
    assert!(!made.is_empty());
    assert!(made.iter().all(|v| real.contains(v)), "{made:?}");
}
