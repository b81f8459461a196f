//! Made-up values that stand in for identifying ones in a request's sample rows: the same
//! shape (word count, separators, digit groups, a phone's country code, an email's common
//! provider), and agreeing across a row (the email is built from the made-up name).

use fake::Fake;
use fake::faker::lorem::en::Word;
use rand::Rng;
use rusqlite::types::Value;

use std::collections::{HashMap, HashSet};

use super::identity::Identity;
use super::real_people::value_key;
use crate::generate::offline::fakes::{Locale, detect_locale, first_name, last_name};

/// Mail providers shared by millions: keeping them keeps the domain mix without naming an
/// employer.
const COMMON_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
    "example.com",
    "example.org",
    "example.net",
];

/// Street words kept as they are: they say what kind of street, not whose.
const STREET_WORDS: &[&str] = &[
    "st",
    "street",
    "ave",
    "avenue",
    "rd",
    "road",
    "blvd",
    "boulevard",
    "lane",
    "ln",
    "dr",
    "drive",
    "way",
    "ct",
    "court",
    "pl",
    "place",
    "sq",
    "square",
    "ter",
    "terrace",
    "pkwy",
    "parkway",
    "hwy",
    "highway",
    "cir",
    "circle",
    "apt",
    "suite",
    "unit",
    "n",
    "s",
    "e",
    "w",
    "ne",
    "nw",
    "se",
    "sw",
    "rue",
    "via",
    "calle",
    "avenida",
    "rua",
    "strasse",
    "straße",
    "weg",
    "platz",
    "allee",
];

/// Masks the identifying columns of sample rows.
#[derive(Debug, Clone)]
pub struct Masker {
    /// Planned column names with their identity kind.
    columns: Vec<(String, Identity)>,
    locale: Locale,
    /// Per identifying column, the table's own values (hashed as compared): a stand-in is
    /// drawn again rather than be one of them.
    taken: HashMap<String, HashSet<u64>>,
}

/// The made-up person one row's names and email are built from.
struct Person {
    first: String,
    last: String,
}

impl Masker {
    /// A masker for the planned columns `names` with their kinds; the sample's text sets
    /// the locale of made-up names.
    pub fn new<'a>(
        names: &[String],
        kinds: &[Option<Identity>],
        texts: impl Iterator<Item = &'a str>,
    ) -> Self {
        let columns = names
            .iter()
            .zip(kinds)
            .filter_map(|(n, k)| k.map(|k| (n.clone(), k)))
            .collect();
        Self {
            columns,
            locale: detect_locale(texts),
            taken: HashMap::new(),
        }
    }

    /// Stand-ins will avoid the table's own values of each column (`taken` by column name,
    /// hashed by [`value_key`]).
    pub fn avoiding(mut self, taken: HashMap<String, HashSet<u64>>) -> Self {
        self.taken = taken;
        self
    }

    fn is_taken(&self, column: &str, kind: Identity, made: &str) -> bool {
        self.taken.get(column).is_some_and(|set| {
            value_key(kind, &Value::Text(made.to_string())).is_some_and(|h| set.contains(&h))
        })
    }

    /// Whether the column is replaced in masked rows.
    pub fn masks(&self, column: &str) -> bool {
        self.kind(column).is_some()
    }

    /// The identifying columns, by name.
    pub fn masked_columns(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(n, _)| n.as_str())
    }

    fn kind(&self, column: &str) -> Option<Identity> {
        self.columns
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, k)| *k)
    }

    /// The rows with every identifying value replaced; NULLs, numbers, dates and categories
    /// stay. Each row gets its own made-up person.
    pub fn mask_rows<R: Rng + ?Sized>(
        &self,
        columns: &[String],
        rows: &[Vec<Value>],
        rng: &mut R,
    ) -> Vec<Vec<Value>> {
        let kinds: Vec<Option<Identity>> = columns.iter().map(|c| self.kind(c)).collect();
        rows.iter()
            .map(|row| {
                let person = self.person(rng);
                row.iter()
                    .zip(columns.iter().zip(&kinds))
                    .map(|(value, (column, kind))| match (value, kind) {
                        (Value::Text(real), Some(kind)) => {
                            Value::Text(self.stand_in(column, *kind, real, &person, rng))
                        }
                        (Value::Integer(n), Some(kind)) => {
                            // A number in an identifying column (a phone stored as INTEGER).
                            let made = self.stand_in(column, *kind, &n.to_string(), &person, rng);
                            made.parse().map_or(Value::Text(made), Value::Integer)
                        }
                        (other, _) => other.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    /// A made-up value in the shape of `real` for `column` (an example for the profile).
    pub fn example<R: Rng + ?Sized>(&self, column: &str, real: &str, rng: &mut R) -> String {
        match self.kind(column) {
            Some(kind) => {
                let person = self.person(rng);
                self.stand_in(column, kind, real, &person, rng)
            }
            None => real.to_string(),
        }
    }

    /// A made-up person whose names are none of the table's own where that can be had
    /// (a huge table may hold every common name; a name alone identifies no one).
    fn person<R: Rng + ?Sized>(&self, rng: &mut R) -> Person {
        let mut person = Person {
            first: String::new(),
            last: String::new(),
        };
        for _ in 0..8 {
            person = Person {
                first: first_name(self.locale, rng),
                last: last_name(self.locale, rng),
            };
            let clash = self.columns.iter().any(|(column, kind)| {
                let made = match kind {
                    Identity::FirstName => person.first.clone(),
                    Identity::LastName => person.last.clone(),
                    Identity::FullName => format!("{} {}", person.first, person.last),
                    _ => return false,
                };
                self.is_taken(column, *kind, &made)
            });
            if !clash {
                break;
            }
        }
        person
    }

    /// One made-up value, never the real one, nor (as far as a few draws can tell) any
    /// other value of the column.
    fn stand_in<R: Rng + ?Sized>(
        &self,
        column: &str,
        kind: Identity,
        real: &str,
        person: &Person,
        rng: &mut R,
    ) -> String {
        let names = matches!(
            kind,
            Identity::FirstName | Identity::LastName | Identity::FullName
        );
        for _ in 0..8 {
            let made = match kind {
                Identity::FirstName => cased_like(real, &person.first),
                Identity::LastName => cased_like(real, &person.last),
                Identity::FullName => full_name(real, person),
                Identity::Email => email(real, person, rng),
                Identity::Phone => digits_replaced(real, kept_phone_prefix(real), rng),
                Identity::Street => street(real, rng),
                Identity::FreeText => free_text(real, rng),
                Identity::PersonalNumber => digits_replaced(real, 0, rng),
                Identity::Distinct if real.contains(' ') => words_masked(real, rng),
                Identity::Distinct => shape_masked(real, rng),
            };
            // The row's person was already drawn clear of the table's names.
            if made != real && (names || !self.is_taken(column, kind, &made)) {
                return made;
            }
        }
        shape_masked(real, rng)
    }
}

/// `made` in the case style of `real` (ALL CAPS, all lower, or as made).
fn cased_like(real: &str, made: &str) -> String {
    let letters = || real.chars().filter(|c| c.is_alphabetic());
    if letters().count() > 1 && letters().all(char::is_uppercase) {
        made.to_uppercase()
    } else if letters().count() > 1 && letters().all(char::is_lowercase) {
        made.to_lowercase()
    } else {
        made.to_string()
    }
}

fn full_name(real: &str, person: &Person) -> String {
    let made = if real.contains(',') {
        format!("{}, {}", person.last, person.first)
    } else if real.split_whitespace().count() <= 1 {
        person.first.clone()
    } else {
        format!("{} {}", person.first, person.last)
    };
    cased_like(real, &made)
}

fn email<R: Rng + ?Sized>(real: &str, person: &Person, rng: &mut R) -> String {
    let Some((local, domain)) = real.rsplit_once('@') else {
        return shape_masked(real, rng);
    };
    let (first, last) = (ascii(&person.first), ascii(&person.last));
    let name_part = local.trim_end_matches(|c: char| c.is_ascii_digit());
    let made_local = if first.is_empty() || last.is_empty() {
        // Names in a script an address cannot hold: the real local part's shape instead.
        shape_masked(name_part, rng)
    } else if let Some(sep) = name_part.chars().find(|c| matches!(c, '.' | '_' | '-')) {
        format!("{first}{sep}{last}")
    } else if name_part.len() <= 8 {
        // Short, without a separator: most often an initial and a surname ("jsmith").
        format!("{}{last}", &first[..1])
    } else {
        format!("{first}{last}")
    };
    let digits = local.len() - name_part.len();
    let number: String = (0..digits)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    let domain_lower = domain.to_ascii_lowercase();
    let made_domain = if COMMON_MAIL_DOMAINS.contains(&domain_lower.as_str()) {
        domain.to_string()
    } else {
        // An employer's or a family's own domain: another made-up name under the same
        // top-level domain, so it still reads as a domain.
        let name = ascii(&last_name(Locale::En, rng));
        match domain.rsplit_once('.') {
            Some((_, tld)) if !name.is_empty() => format!("{name}.{tld}"),
            _ => shape_masked(domain, rng),
        }
    };
    format!("{made_local}{number}@{made_domain}")
}

/// Letters and digits of `s` an address can hold, lower-cased.
fn ascii(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase()
}

/// How much of a phone number stays: `+` with its country code when it stands apart
/// (`+1 `, `+44-`), else the first digit (a national prefix or trunk digit).
fn kept_phone_prefix(real: &str) -> usize {
    let trimmed = real.trim_start();
    let lead = real.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix('+') {
        let code = rest.chars().take_while(char::is_ascii_digit).count();
        if (1..=3).contains(&code) && rest[code..].starts_with(|c: char| !c.is_ascii_digit()) {
            return lead + 1 + code;
        }
        return lead + 2.min(trimmed.len());
    }
    trimmed
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit())
        .map_or(0, |(i, c)| lead + i + c.len_utf8())
}

/// Every digit after byte `keep` replaced by a random one; the rest as it was.
fn digits_replaced<R: Rng + ?Sized>(real: &str, keep: usize, rng: &mut R) -> String {
    real.char_indices()
        .map(|(i, c)| {
            if i >= keep && c.is_ascii_digit() {
                char::from(b'0' + rng.random_range(0..10u8))
            } else {
                c
            }
        })
        .collect()
}

fn street<R: Rng + ?Sized>(real: &str, rng: &mut R) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut named = false;
    let mut in_name = false;
    for word in real.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let lower = bare.to_lowercase();
        if bare.chars().all(|c| c.is_ascii_digit()) && !bare.is_empty() {
            // A house number: as many digits, never a leading zero.
            let made: String = bare
                .chars()
                .enumerate()
                .map(|(i, _)| char::from(b'0' + rng.random_range(u8::from(i == 0)..10)))
                .collect();
            out.push(word.replace(bare, &made));
            in_name = false;
        } else if STREET_WORDS.contains(&lower.as_str()) || !bare.chars().any(char::is_alphabetic) {
            out.push(word.to_string());
            in_name = false;
        } else if let Some(made) = ordinal(bare, rng) {
            // "22nd": another number with its own suffix.
            out.push(word.replace(bare, &made));
            in_name = false;
        } else if bare.chars().any(|c| c.is_ascii_digit()) {
            // "12B", "#4": its digits made up, letters kept.
            out.push(digits_replaced(word, 0, rng));
            in_name = false;
        } else if !in_name {
            // The street's own name (however many words) becomes one made-up word, not
            // the row's made-up person: streets are not named after their residents.
            let made = if named {
                first_name(Locale::En, rng)
            } else {
                last_name(Locale::En, rng)
            };
            out.push(word.replace(bare, &cased_like(bare, &made)));
            named = true;
            in_name = true;
        }
    }
    out.join(" ")
}

/// A made-up ordinal ("7th", "22nd") of as many digits when `word` is one.
fn ordinal<R: Rng + ?Sized>(word: &str, rng: &mut R) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &lower[digits.len()..];
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !matches!(suffix, "st" | "nd" | "rd" | "th")
    {
        return None;
    }
    let low = 10u32.pow(digits.len() as u32 - 1).max(1);
    let n = rng.random_range(low..low * 10);
    Some(format!("{n}{}", ordinal_suffix(n)))
}

/// English ordinal suffixes: 1st, 2nd, 3rd, 4th, 11th–13th, 21st, 112th.
fn ordinal_suffix(n: u32) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Neutral words of about the same length: the text's size and rhythm, none of its content.
fn free_text<R: Rng + ?Sized>(real: &str, rng: &mut R) -> String {
    let target = real.chars().count().max(1);
    let mut out = String::new();
    while out.chars().count() + 1 < target {
        let word: &str = Word().fake_with_rng(rng);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let mut chars = out.chars();
    let mut made: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if real.trim_end().ends_with(['.', '!', '?']) {
        made.push('.');
    }
    made
}

/// Word for word: each word another of the same case pattern, digits made up, punctuation
/// kept ("Ultralight Sleeping Bag (20F)" → "Dolorem Quia Sed (47F)").
fn words_masked<R: Rng + ?Sized>(real: &str, rng: &mut R) -> String {
    real.split(' ')
        .map(|word| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
            if bare.is_empty() {
                return word.to_string();
            }
            if bare.chars().any(|c| c.is_ascii_digit()) {
                return digits_replaced(word, 0, rng);
            }
            let made: &str = Word().fake_with_rng(rng);
            let made = if bare.chars().all(char::is_uppercase) && bare.chars().count() > 1 {
                made.to_uppercase()
            } else if bare.starts_with(char::is_uppercase) {
                let mut c = made.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            } else {
                made.to_string()
            };
            word.replacen(bare, &made, 1)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Letter for letter, digit for digit, the same case; everything else kept. URLs keep
/// their scheme, `www.` and top-level domain.
fn shape_masked<R: Rng + ?Sized>(real: &str, rng: &mut R) -> String {
    let (kept_head, body) = ["https://www.", "http://www.", "https://", "http://", "www."]
        .iter()
        .find_map(|p| real.strip_prefix(p).map(|rest| (*p, rest)))
        .unwrap_or(("", real));
    let host_end = body.find('/').unwrap_or(body.len());
    let tld_start = if kept_head.is_empty() {
        body.len()
    } else {
        body[..host_end].rfind('.').unwrap_or(host_end)
    };
    let mut out = String::from(kept_head);
    for (i, c) in body.char_indices() {
        let keep = i >= tld_start && i < host_end;
        out.push(match c {
            _ if keep => c,
            'a'..='z' => char::from(rng.random_range(b'a'..=b'z')),
            'A'..='Z' => char::from(rng.random_range(b'A'..=b'Z')),
            '0'..='9' => char::from(b'0' + rng.random_range(0..10u8)),
            c if c.is_alphabetic() => char::from(rng.random_range(b'a'..=b'z')),
            c => c,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn masker() -> Masker {
        let names: Vec<String> = ["id", "name", "email", "phone", "street", "city", "notes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let kinds = [
            None,
            Some(Identity::FullName),
            Some(Identity::Email),
            Some(Identity::Phone),
            Some(Identity::Street),
            None,
            Some(Identity::FreeText),
        ];
        Masker::new(&names, &kinds, std::iter::empty())
    }

    fn text(v: &Value) -> &str {
        match v {
            Value::Text(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identifying_values_change_shape_and_agreement_stay() {
        let m = masker();
        let columns: Vec<String> = ["id", "name", "email", "phone", "street", "city", "notes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let real = vec![
            Value::Integer(7),
            Value::Text("Ada Lovelace".into()),
            Value::Text("ada.lovelace42@gmail.com".into()),
            Value::Text("+44 20 7946 0018".into()),
            Value::Text("12 Babbage Street".into()),
            Value::Text("London".into()),
            Value::Text("Prefers email after 6pm.".into()),
        ];
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let masked = &m.mask_rows(&columns, std::slice::from_ref(&real), &mut rng)[0];
            assert_eq!(masked[0], Value::Integer(7), "keys stay");
            assert_eq!(masked[5], real[5], "categories stay");
            for i in [1, 2, 3, 4, 6] {
                assert_ne!(masked[i], real[i]);
            }
            let name = text(&masked[1]);
            let [first, last] = name.split(' ').collect::<Vec<_>>()[..] else {
                panic!("{name}")
            };
            let email = text(&masked[2]);
            let (local, domain) = email.rsplit_once('@').unwrap();
            assert_eq!(domain, "gmail.com", "a common provider stays");
            let expected: String = format!("{first}.{last}")
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            assert!(local.starts_with(&expected), "{email} from {name}");
            assert_eq!(local.len() - expected.len(), 2, "as many digits: {email}");
            let phone = text(&masked[3]);
            assert!(phone.starts_with("+44 "), "{phone}");
            assert_eq!(
                phone
                    .chars()
                    .map(|c| c.is_ascii_digit())
                    .collect::<Vec<_>>(),
                "+44 20 7946 0018"
                    .chars()
                    .map(|c| c.is_ascii_digit())
                    .collect::<Vec<_>>()
            );
            let street = text(&masked[4]);
            assert!(street.ends_with(" Street"), "{street}");
            assert!(!street.contains("Babbage"), "{street}");
            assert!(text(&masked[6]).ends_with('.'));
            assert!(!text(&masked[6]).contains("email"));
        }
    }

    #[test]
    fn an_employers_domain_and_a_url_are_made_up_in_shape() {
        let mut rng = StdRng::seed_from_u64(2);
        let person = Person {
            first: "Jo".into(),
            last: "Doe".into(),
        };
        let e = email("jsmith@acme-widgets.co", &person, &mut rng);
        assert!(e.starts_with("jdoe@"), "{e}");
        assert!(!e.contains("acme") && e.ends_with(".co"), "{e}");
        let s = street("3454 W 22nd St Apt 4", &mut rng);
        let words: Vec<&str> = s.split(' ').collect();
        assert_eq!((words.len(), words[1], words[4]), (6, "W", "Apt"), "{s}");
        let n: u32 = words[2]
            .trim_end_matches(char::is_alphabetic)
            .parse()
            .unwrap();
        let suffix = &words[2][n.to_string().len()..];
        assert_eq!(suffix, ordinal_suffix(n), "{s}");
        let suffixes: Vec<&str> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 93, 111, 112]
            .iter()
            .map(|&n| ordinal_suffix(n))
            .collect();
        assert_eq!(
            suffixes,
            [
                "st", "nd", "rd", "th", "th", "th", "th", "st", "nd", "rd", "th", "th"
            ]
        );
        let u = shape_masked("https://www.janedoe.net/about", &mut rng);
        assert!(u.starts_with("https://www.") && u.contains(".net/"), "{u}");
        assert!(!u.contains("janedoe") && !u.contains("about"), "{u}");
        assert_eq!(u.len(), "https://www.janedoe.net/about".len());
    }

    #[test]
    fn phones_keep_their_country_code_or_first_digit() {
        assert_eq!(kept_phone_prefix("+1 (555) 010-9999"), 2);
        assert_eq!(kept_phone_prefix("+351-912-345-678"), 4);
        assert_eq!(kept_phone_prefix("(555) 010-9999"), 2);
        assert_eq!(kept_phone_prefix("+4915112345678"), 2);
    }
}
