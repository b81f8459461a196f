//! Identity-like free text (titles, names of things, descriptions,
//! comments): new values in the column's own words, lengths and style,
//! never a copy of a value the model learned from.
//!
//! A word chain (each word followed by the words that follow it in the
//! column) walks as many words as the anchor row's value has, so word
//! counts keep the column's distribution and their link to the rest of the
//! row. Words keep what is inside them (apostrophes, hyphens, digits); the
//! marks around them (brackets, commas, colons, a final period) and the
//! case of the whole value (Title, sentence, lower, UPPER) are laid over
//! the new words as the anchor's value has them, so their shares follow
//! the column's. A value equal to a training value (ignoring case and
//! punctuation) is drawn again, then with new digits, and at last
//! lengthened until it is new.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use rand::Rng;
use rand::seq::IndexedRandom;

use super::textstyle::{self, Case, Casing, Position};
use super::wordchain::{WordChain, bump};
use crate::db::formats;

/// Fewer values than this cannot tell identities from categories.
const MIN_VALUES: usize = 10;
/// From this share of distinct values, a column holds identities, not
/// categories (a category repeats; a title mostly does not).
const DISTINCT_SHARE: f64 = 0.7;
/// Below this share of values with more than one word, the column holds
/// single tokens (handles, codes) that a word chain cannot make new.
const MULTI_WORD_SHARE: f64 = 0.3;
/// Draws of the anchor's word count that start from the anchor's first
/// word (a car's make stays with its origin), then from any first word,
/// both within a few characters of the anchor's length; then of any
/// character length with new digits; then of any word count.
const SEEDED: usize = 8;
const NEAR_LENGTH: usize = 16;
const REDRAW_DIGITS: usize = 16;
const ANY_LENGTH: usize = 24;
/// After this many draws a value made before (but no training value) is
/// taken: past a few thousand values from a small column, new ones get
/// rare and the search would cost more than the repeat. Not in a column whose
/// values are all different: there a repeat would be turned away by the gate.
const REPEAT_AFTER: usize = 16;
const ATTEMPTS: usize = 32;
/// Generated values remembered to avoid repeats, at most (memory stays
/// bounded on very large runs).
const REMEMBERED: usize = 200_000;

/// Columns named for places (city, country, state...) hold real places:
/// they stay categories however many there are.
fn is_place(column: &str) -> bool {
    const PLACES: &[&str] = &[
        "city",
        "town",
        "village",
        "country",
        "state",
        "province",
        "region",
        "county",
        "district",
        "suburb",
        "municipality",
        "neighborhood",
        "neighbourhood",
        "continent",
        "territory",
        "zip",
        "postcode",
        "postal",
    ];
    name_parts(column)
        .iter()
        .any(|p| PLACES.contains(&p.as_str()))
}

/// The words of a column name: `BillingCity` and `billing_city` both give
/// `billing`, `city` (and `ethnicity` stays one word).
fn name_parts(column: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in column.chars() {
        if !c.is_alphanumeric() {
            parts.push(std::mem::take(&mut current));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            parts.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    parts.push(current);
    parts.retain(|p| !p.is_empty());
    parts
}

/// Whether a column holds identity-like free text: enough values, mostly
/// distinct (in the sample and, when known, in the whole table), words
/// rather than a recognised format (emails, phones, dates and codes have
/// their own generators), and not single tokens.
fn is_identity_text(
    column: &str,
    texts: &[&str],
    present: usize,
    table_distinct_share: Option<f64>,
) -> bool {
    if texts.len() < MIN_VALUES || texts.len() * 10 < present * 9 || is_place(column) {
        return false;
    }
    let n = texts.len() as f64;
    let distinct = texts.iter().collect::<HashSet<_>>().len() as f64 / n;
    if table_distinct_share.map_or(distinct, |t| t.min(distinct)) < DISTINCT_SHARE {
        return false;
    }
    let share = |test: &dyn Fn(&str) -> bool| texts.iter().filter(|t| test(t)).count() as f64 / n;
    share(&|t| formats::classify(t).is_some()) < 0.5
        && share(&|t| t.split_whitespace().nth(1).is_some()) >= MULTI_WORD_SHARE
        && share(&|t| t.chars().any(char::is_alphabetic)) >= 0.9
}

/// A value as compared for copies: lower case, words of letters and
/// digits only ("Can't Stop!" and "can t stop" are the same value).
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The look of one value, laid over new words: the marks around each word
/// (brackets, commas, a final period) and the case, when the value shows
/// it. Taken from the anchor row's value, so a column's share of values
/// with brackets or commas, and where in a value they sit, carry over.
#[derive(Debug, Clone)]
struct Template {
    marks: Vec<(String, String)>,
    /// Per word: the number where the value has one ("Part 2", "2011
    /// Remaster"): a new number in its place, of as many digits, starting
    /// with the same first half ("Part 7", "2046 Remaster").
    numbers: Vec<Option<String>>,
    case: Option<Case>,
    /// Characters in the value.
    chars: usize,
}

impl Template {
    fn of(text: &str) -> Self {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let marks = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (open, _, close) = textstyle::split_marks(t, i + 1 == tokens.len());
                (open.to_string(), close.to_string())
            })
            .collect();
        let numbers = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (_, word, _) = textstyle::split_marks(t, i + 1 == tokens.len());
                word.chars()
                    .all(|c| c.is_ascii_digit())
                    .then(|| word.to_string())
            })
            .collect();
        let (case, decisive) = textstyle::classify(text);
        Self {
            marks,
            numbers,
            case: decisive.then_some(case),
            chars: text.chars().count(),
        }
    }

    /// Whether a value's length is near this one's, by a margin that
    /// widens with each attempt (a character at first, then up to 40%).
    fn near(&self, value: &str, attempt: usize) -> bool {
        let margin = (1 + attempt / 3).max(self.chars * (attempt + 2) / 40);
        value.chars().count().abs_diff(self.chars) <= margin
    }

    fn len(&self) -> usize {
        self.marks.len()
    }
}

/// New digits of the same count in each run of digits ("Part 2" ->
/// "Part 7", "Gate code 4412" -> "Gate code 8053").
fn redraw_digits<R: Rng + ?Sized>(value: &str, rng: &mut R) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run_start = true;
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_digit() {
            out.push(c);
            run_start = true;
            continue;
        }
        let longer = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        // No leading zero where the run has more digits, or had none.
        let lowest = if run_start && (longer || c != '0') {
            1
        } else {
            0
        };
        out.push(char::from(b'0' + rng.random_range(lowest..=9u8)));
        run_start = false;
    }
    out
}

/// A number like `number`: as many digits, the first half of them kept
/// (years stay in their century), the rest new, no new leading zero.
fn new_number<R: Rng + ?Sized>(number: &str, rng: &mut R) -> String {
    let kept = number.len() / 2;
    let mut out: String = number[..kept].to_string();
    for i in kept..number.len() {
        let lowest = if i == 0 && number.len() > 1 { 1 } else { 0 };
        out.push(char::from(b'0' + rng.random_range(lowest..=9u8)));
    }
    out
}

/// A model of one identity-like free-text column.
#[derive(Debug, Clone)]
pub(super) struct FreeText {
    chain: WordChain,
    /// Per word: capitalised inside sentences (a name).
    proper: Vec<bool>,
    /// The look of each training value, for rows whose anchor has no text.
    templates: Vec<Template>,
    /// Cases of the values that show one, for those that do not.
    cases: Vec<(Case, u64)>,
    casing: Casing,
    /// The training values, normalised.
    seen: HashSet<String>,
    /// Hashes of the values made so far.
    made: HashSet<u64>,
    /// Every training value is different (emails, titles of a catalogue): a made value is
    /// never made twice, as the realism gate also requires.
    distinct: bool,
}

/// A value's words without the marks around them.
fn bare_words(text: &str) -> Vec<&str> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let last = tokens.len().saturating_sub(1);
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| textstyle::split_marks(t, i == last).1)
        .collect()
}

impl FreeText {
    /// Learns from the column's text values (`present` counts its non-NULL
    /// values of any type), when they are identity-like free text.
    pub(super) fn learn(
        column: &str,
        texts: &[&str],
        present: usize,
        table_distinct_share: Option<f64>,
    ) -> Option<Self> {
        if !is_identity_text(column, texts, present, table_distinct_share) {
            return None;
        }
        let texts: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !t.trim().is_empty())
            .collect();
        let chain = WordChain::learn(texts.iter().map(|t| bare_words(t)));
        let mut proper = vec![false; chain.len()];
        let mut cases = Vec::new();
        let (mut small_upper, mut small_lower) = (0u64, 0u64);
        let mut templates = Vec::with_capacity(texts.len());
        let mut seen = HashSet::with_capacity(texts.len());
        for text in &texts {
            let template = Template::of(text);
            if let Some(case) = template.case {
                bump(&mut cases, case);
            }
            // Which words a sentence capitalises (names), and whether
            // titles capitalise small words.
            let mut position = Position::Start;
            for (token, word) in text.split_whitespace().zip(bare_words(text)) {
                let capital = word
                    .chars()
                    .find(|c| c.is_alphabetic())
                    .is_some_and(char::is_uppercase);
                if position == Position::Inner && !textstyle::keeps_own_case(word) {
                    match template.case {
                        Some(Case::Sentence) if capital => {
                            if let Some(id) = chain.id(word) {
                                proper[id as usize] = true;
                            }
                        }
                        Some(Case::Title) if textstyle::is_small(&word.to_lowercase()) => {
                            if capital {
                                small_upper += 1;
                            } else {
                                small_lower += 1;
                            }
                        }
                        _ => {}
                    }
                }
                position = if textstyle::ends_sentence(token) {
                    Position::Start
                } else {
                    Position::Inner
                };
            }
            templates.push(template);
            seen.insert(normalise(text));
        }
        Some(Self {
            chain,
            proper,
            templates,
            cases,
            casing: Casing {
                small_caps: small_upper > small_lower,
            },
            distinct: seen.len() == texts.len(),
            seen,
            made: HashSet::new(),
        })
    }

    /// A new value for a row whose anchor row holds `anchor`.
    pub(super) fn make<R: Rng + ?Sized>(&mut self, anchor: Option<&str>, rng: &mut R) -> String {
        // With no text in the anchor, the look of a training value.
        let own = anchor.filter(|a| !a.trim().is_empty()).map(Template::of);
        let own_pick = self.any_template(rng);
        let first = anchor
            .and_then(|a| a.split_whitespace().next())
            .and_then(|w| self.chain.id(textstyle::split_marks(w, false).1));
        let mut repeat = None;
        // The last draw: its words, its template, and whether that was own.
        let mut last = (Vec::new(), own_pick, true);
        for attempt in 0..ATTEMPTS {
            // A value made before keeps the anchor's length; another length
            // only when every draw of this one was a training value.
            if attempt >= REPEAT_AFTER
                && !self.distinct
                && let Some(value) = repeat.take()
            {
                return value;
            }
            let pick = if attempt < ANY_LENGTH {
                own_pick
            } else {
                self.any_template(rng)
            };
            let template = match (&own, attempt < ANY_LENGTH) {
                (Some(own), true) => own,
                _ => &self.templates[pick],
            };
            // One word from the anchor's first would be the anchor itself.
            let seed = first.filter(|_| attempt < SEEDED && template.len() > 1);
            // Later attempts leave the chain more often: new pairings of
            // words where the column's own pairs keep making copies.
            let leap = (attempt as f64 * 0.05).min(0.6);
            let ids = self.chain.walk(template.len(), seed, leap, rng);
            let mut value = self.render(&ids, template, rng);
            if attempt >= REDRAW_DIGITS {
                value = redraw_digits(&value, rng);
            }
            if attempt >= NEAR_LENGTH || template.near(&value, attempt) {
                let key = normalise(&value);
                if !self.seen.contains(&key) {
                    if self.remember(&key) {
                        return value;
                    }
                    repeat.get_or_insert(value);
                }
            }
            last = (ids, pick, attempt < ANY_LENGTH);
        }
        if let Some(value) = repeat {
            if !self.distinct {
                return value;
            }
            if value.chars().any(|c| c.is_ascii_digit()) {
                return self.widen(value, rng);
            }
        }
        let template = match (own, last.2) {
            (Some(own), true) => own,
            _ => self.templates[last.1].clone(),
        };
        self.lengthen(last.0, &template, rng)
    }

    /// A value with numbers, made before: its last number grows a digit at a time until
    /// the value is new ("item 412" -> "item 4127"), as numbered names do when there are
    /// more of them.
    fn widen<R: Rng + ?Sized>(&mut self, mut value: String, rng: &mut R) -> String {
        loop {
            let at = value
                .rfind(|c: char| c.is_ascii_digit())
                .map_or(value.len(), |i| i + 1);
            value.insert(at, char::from(b'0' + rng.random_range(0..=9u8)));
            let key = normalise(&value);
            // Each digit makes ten times the room, so this ends within a few rounds.
            if !self.seen.contains(&key) && self.remember(&key) {
                return value;
            }
        }
    }

    /// The index of a training value's template (there is at least one:
    /// the column was learned from ten values or more).
    fn any_template<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        rng.random_range(0..self.templates.len())
    }

    /// Writes the words with the template's marks, in its case (or one
    /// drawn in the column's proportions).
    fn render<R: Rng + ?Sized>(&self, ids: &[u32], template: &Template, rng: &mut R) -> String {
        let case = template.case.unwrap_or_else(|| {
            self.cases
                .choose_weighted(rng, |(_, n)| *n)
                .map_or(Case::Title, |(c, _)| *c)
        });
        let mut position = Position::Start;
        let tokens = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let (open, close) = template.marks.get(i).cloned().unwrap_or_default();
                let written = match template.numbers.get(i).and_then(Option::as_deref) {
                    Some(number) => new_number(number, rng),
                    None => textstyle::cased(
                        self.chain.surface(id),
                        case,
                        position,
                        self.proper[id as usize],
                        self.casing,
                    ),
                };
                let token = format!("{open}{written}{close}");
                position = if textstyle::ends_sentence(&token) {
                    Position::Start
                } else {
                    Position::Inner
                };
                token
            })
            .collect();
        textstyle::finish(tokens)
    }

    /// Adds words until the value is none of the training values. Each word
    /// with a letter or digit adds a word to the compared form, and no
    /// training value has more words than the longest, so this ends.
    fn lengthen<R: Rng + ?Sized>(
        &mut self,
        mut ids: Vec<u32>,
        template: &Template,
        rng: &mut R,
    ) -> String {
        loop {
            let value = self.render(&ids, template, rng);
            let key = normalise(&value);
            if !self.seen.contains(&key) && (self.remember(&key) || !self.distinct) {
                return value;
            }
            match self.chain.any_word(rng) {
                Some(id) => ids.push(id),
                // Unreachable: a learned column has words with letters.
                None => return value,
            }
        }
    }

    /// Notes a made value; false when it was made before.
    fn remember(&mut self, key: &str) -> bool {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let hash = h.finish();
        if self.made.len() >= REMEMBERED {
            return !self.made.contains(&hash);
        }
        self.made.insert(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const TITLES: &[&str] = &[
        "Let There Be Rock",
        "Princess of the Dawn",
        "(I Can't Get No) Satisfaction",
        "Snowballed, Part 2",
        "Snowblind",
        "Hell Ain't a Bad Place to Be",
        "Whole Lotta Rosie",
        "Go Down",
        "Dog Eat Dog",
        "Bad Boy Boogie",
        "Overdose",
        "Problem Child",
        "Night of the Long Knives",
        "Spellbound (Live)",
        "Evil Walks, Part 1",
    ];

    #[test]
    fn recognises_identity_text() {
        assert!(is_identity_text("title", TITLES, TITLES.len(), None));
        // Categories repeat.
        let statuses: Vec<&str> = ["paid", "shipped", "Left at door"]
            .iter()
            .cycle()
            .take(30)
            .copied()
            .collect();
        assert!(!is_identity_text("status", &statuses, 30, None));
        // Places stay categories, however many there are.
        assert!(!is_identity_text("BillingCity", TITLES, TITLES.len(), None));
        assert!(is_identity_text(
            "ethnicity_note",
            TITLES,
            TITLES.len(),
            None
        ));
        // Formats have their own generators; single tokens are no text.
        let emails: Vec<String> = (0..20).map(|i| format!("user{i}@mail.com")).collect();
        let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
        assert!(!is_identity_text("contact", &emails, 20, None));
        let handles: Vec<String> = (0..20).map(|i| format!("handle{i}x")).collect();
        let handles: Vec<&str> = handles.iter().map(String::as_str).collect();
        assert!(!is_identity_text("handle", &handles, 20, None));
        // The whole table repeats more than the sample shows.
        assert!(!is_identity_text("title", TITLES, TITLES.len(), Some(0.2)));
        assert!(!is_identity_text("title", &TITLES[..5], 5, None));
    }

    #[test]
    fn never_copies_and_repeats_with_a_seed() {
        let mut model = FreeText::learn("title", TITLES, TITLES.len(), None).unwrap();
        let seen: HashSet<String> = TITLES.iter().map(|t| normalise(t)).collect();
        let mut rng = StdRng::seed_from_u64(3);
        let made: Vec<String> = (0..300)
            .map(|i| model.make(Some(TITLES[i % TITLES.len()]), &mut rng))
            .collect();
        for v in &made {
            assert!(!seen.contains(&normalise(v)), "copied {v}");
            assert!(!v.is_empty());
        }
        let mut again = FreeText::learn("title", TITLES, TITLES.len(), None).unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let same: Vec<String> = (0..300)
            .map(|i| again.make(Some(TITLES[i % TITLES.len()]), &mut rng))
            .collect();
        assert_eq!(made, same);
    }

    #[test]
    fn a_tiny_vocabulary_is_lengthened_rather_than_copied() {
        // Ten one-word-or-two values built from three words: every short
        // walk is a copy, so values grow until they are new.
        let texts = [
            "red",
            "blue",
            "green",
            "red blue",
            "blue red",
            "green red",
            "red green",
            "blue green",
            "green blue",
            "red red",
        ];
        let mut model = FreeText::learn("label", &texts, texts.len(), None).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let v = model.make(None, &mut rng);
            assert!(!texts.contains(&v.to_lowercase().as_str()), "copied {v}");
        }
    }

    #[test]
    fn redraws_digits_in_place() {
        let mut rng = StdRng::seed_from_u64(5);
        let v = redraw_digits("Part 2, take 10 of 0", &mut rng);
        let shape: String = v
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "Part 9, take 99 of 9");
        // A run of several digits never starts with 0.
        assert!(!v.contains("take 0"), "{v}");
        let year = new_number("2011", &mut rng);
        assert!(year.starts_with("20") && year.len() == 4, "{year}");
        assert_eq!(new_number("5", &mut rng).len(), 1);
        assert_eq!(
            name_parts("BillingCity_code2"),
            ["billing", "city", "code2"]
        );
    }
}
