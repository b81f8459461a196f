//! Which columns identify a person: names, emails, phones, street addresses, free text and
//! any text that is nearly always different. Keys, numbers, dates, codes and categories do
//! not: they carry the distribution and the references, not the person.

use rusqlite::types::Value;

use crate::db::formats::Format;
use crate::db::profile::{ColumnProfile, TableProfile};
use crate::generate::offline::fakes::{Semantic, looks_like_people, semantic_of};
use crate::generate::plan::Plan;

/// What kind of identifying value a column holds, which says how to make up another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    FirstName,
    LastName,
    FullName,
    Email,
    Phone,
    Street,
    /// Sentences written by or about someone (notes, bios, comments).
    FreeText,
    /// Anything else nearly always different (user names, URLs): made up character by
    /// character in the same shape.
    Distinct,
    /// A number that belongs to one person (social security, card, account, passport,
    /// tax id), stored as text or as a number: never reused, made up digit by digit.
    PersonalNumber,
}

/// Column names that hold personal identifiers whatever their values look like.
const PERSONAL_NAMES: &[&str] = &[
    "username",
    "user_name",
    "login",
    "handle",
    "nickname",
    "screen_name",
    "ip",
    "ip_address",
    "license_plate",
    "linkedin",
    "twitter",
];

/// Column names of numbers that belong to one person, whatever their storage or format.
const PERSONAL_NUMBERS: &[&str] = &[
    "ssn",
    "social_security",
    "social_security_number",
    "sin",
    "passport",
    "passport_number",
    "passport_no",
    "national_id",
    "national_id_number",
    "tax_id",
    "tin",
    "iban",
    "account_number",
    "account_no",
    "bank_account",
    "card_number",
    "credit_card",
    "credit_card_number",
    "cc_number",
    "drivers_license",
    "driver_license",
    "license_number",
    "medical_record_number",
    "mrn",
];

/// Column names of phone numbers, for phones stored as numbers or written without a format.
const PHONE_NAMES: &[&str] = &[
    "phone",
    "phone_number",
    "phone_no",
    "telephone",
    "tel",
    "mobile",
    "mobile_phone",
    "cell",
    "cell_phone",
    "cellphone",
    "fax",
    "home_phone",
    "work_phone",
];

/// Text this long on average, mostly different, is free text.
const FREE_TEXT_MEAN_CHARS: f64 = 40.0;
/// Share of distinct values above which text identifies its row.
const MOSTLY_DISTINCT: f64 = 0.9;
/// Non-null values needed before "mostly distinct" means anything.
const DISTINCT_EVIDENCE: u64 = 10;

/// The identity kind of each planned column (`None`: not identifying), judged from its
/// name, its profile and, for names in a small table, the sample's values.
pub fn identity_columns(
    plan: &Plan,
    profile: Option<&TableProfile>,
    sample_columns: &[String],
    sample_rows: &[Vec<Value>],
) -> Vec<Option<Identity>> {
    plan.columns
        .iter()
        .map(|column| {
            if column.foreign_key.is_some() {
                return None;
            }
            let p = profile.and_then(|p| p.columns.iter().find(|c| c.name == column.name));
            let texts: Vec<&str> = sample_columns
                .iter()
                .position(|c| *c == column.name)
                .map(|at| {
                    sample_rows
                        .iter()
                        .filter_map(|row| match row.get(at) {
                            Some(Value::Text(t)) => Some(t.as_str()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            identity_of(&column.name, p, &texts)
        })
        .collect()
}

/// The identity kind of a column known only by its name and a few sample values (no
/// profile): formats by majority, names, and free text by its length.
pub fn identity_of_sample(name: &str, texts: &[&str]) -> Option<Identity> {
    if let Some(kind) = by_name(name) {
        return Some(kind);
    }
    let formats: Vec<Option<Format>> = texts
        .iter()
        .map(|t| crate::db::formats::classify(t))
        .collect();
    let most = |f: Format| {
        !texts.is_empty()
            && formats.iter().filter(|x| **x == Some(f)).count() * 10 >= texts.len() * 7
    };
    if most(Format::Email) {
        return Some(Identity::Email);
    }
    if most(Format::Phone) {
        return Some(Identity::Phone);
    }
    if most(Format::Url) {
        return Some(Identity::Distinct);
    }
    if let Some(kind) = identity_of(name, None, texts) {
        return Some(kind);
    }
    let mean =
        texts.iter().map(|t| t.chars().count()).sum::<usize>() as f64 / texts.len().max(1) as f64;
    (mean >= FREE_TEXT_MEAN_CHARS).then_some(Identity::FreeText)
}

/// What a column's name alone says, whatever its values look like (a card number stored
/// as INTEGER, an SSN the profile reads as a phone or a code).
fn by_name(name: &str) -> Option<Identity> {
    let lower = snake_case(name);
    let words: Vec<&str> = lower.split('_').collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if PERSONAL_NUMBERS.contains(&lower.as_str()) || has(&["ssn", "passport", "iban"]) {
        return Some(Identity::PersonalNumber);
    }
    // "phone_text", "mobile_no", "customer_fax": a phone by any part of its name.
    if PHONE_NAMES.contains(&lower.as_str())
        || has(&["phone", "mobile", "telephone", "cellphone", "fax"])
    {
        return Some(Identity::Phone);
    }
    if PERSONAL_NAMES.contains(&lower.as_str()) {
        return Some(Identity::Distinct);
    }
    None
}

/// `PhoneNumber`, `phone-number` and `Phone Number` as `phone_number`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    out
}

fn identity_of(name: &str, p: Option<&ColumnProfile>, texts: &[&str]) -> Option<Identity> {
    if let Some(kind) = by_name(name) {
        return Some(kind);
    }
    if let Some(p) = p {
        match p.format.as_ref().map(|f| f.format) {
            Some(Format::Email) => return Some(Identity::Email),
            Some(Format::Phone) => return Some(Identity::Phone),
            Some(Format::Url) => return Some(Identity::Distinct),
            // Keys, dates, numbers written as text and codes are not about a person.
            Some(_) => return None,
            None => {}
        }
        if p.code.is_some() {
            return None;
        }
        if p.storage.text == 0 {
            return None;
        }
    }
    // "name" also names products and places: a full name only when the values look like
    // people's (or there are too few to tell).
    let people = texts.len() < 5 || looks_like_people(texts);
    match semantic_of(name) {
        Some(Semantic::FirstName) => return Some(Identity::FirstName),
        Some(Semantic::LastName) => return Some(Identity::LastName),
        Some(Semantic::FullName) if people => return Some(Identity::FullName),
        Some(Semantic::Street) => return Some(Identity::Street),
        Some(Semantic::FullName | Semantic::Company) | None => {}
    }
    if !texts.is_empty() && looks_like_people(texts) {
        return Some(Identity::FullName);
    }
    let p = p?;
    let non_null = p.storage.integer + p.storage.real + p.storage.text + p.storage.blob;
    // Numbers stored in a text column, or mostly numbers: a measure, not a person.
    if p.storage.text * 10 < non_null * 9 {
        return None;
    }
    let distinct_share = p.distinct_count as f64 / non_null.max(1) as f64;
    let mean = p.text.as_ref().map_or(0.0, |t| t.mean_length);
    if mean >= FREE_TEXT_MEAN_CHARS && distinct_share >= 0.5 {
        return Some(Identity::FreeText);
    }
    if non_null >= DISTINCT_EVIDENCE && distinct_share >= MOSTLY_DISTINCT {
        return Some(Identity::Distinct);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_column_is_a_person_only_when_its_values_are_peoples() {
        let people = [
            "Ada Lovelace",
            "Grace Hopper",
            "Alan Turing",
            "Jean-Luc de la Cruz",
            "Edsger Dijkstra",
        ];
        let products = [
            "Heavy-Duty Stapler",
            "Ultralight Sleeping Bag (20F)",
            "Family Strategy Board Game",
            "Gel Ink Pens, 12-Pack",
            "USB-C Hub",
        ];
        assert_eq!(
            identity_of_sample("name", &people),
            Some(Identity::FullName)
        );
        assert_ne!(
            identity_of_sample("name", &products),
            Some(Identity::FullName)
        );
        assert_eq!(
            identity_of_sample("first_name", &["Ada", "Grace"]),
            Some(Identity::FirstName)
        );
        assert_eq!(
            identity_of_sample("street", &["12 Main St"]),
            Some(Identity::Street)
        );
        assert_eq!(
            identity_of_sample("contact", &["a@x.org", "b@y.com", "c@z.net"]),
            Some(Identity::Email)
        );
        assert_eq!(
            identity_of_sample("username", &["ada42"]),
            Some(Identity::Distinct)
        );
        assert_eq!(identity_of_sample("city", &["Lisbon", "Osaka"]), None);
        assert_eq!(
            identity_of_sample("phone_text", &["2065550179"]),
            Some(Identity::Phone)
        );
        assert_eq!(
            identity_of_sample("ssn_text", &["506-26-3333"]),
            Some(Identity::PersonalNumber)
        );
        assert_eq!(
            identity_of_sample("telephone_number", &["2065550179"]),
            Some(Identity::Phone)
        );
        for (name, kind) in [
            ("PhoneNumber", Identity::Phone),
            ("contact_phone", Identity::Phone),
            ("mobile_number", Identity::Phone),
            ("CardNumber", Identity::PersonalNumber),
            ("SocialSecurityNumber", Identity::PersonalNumber),
        ] {
            assert_eq!(
                identity_of_sample(name, &["4111111111111111"]),
                Some(kind),
                "{name}"
            );
        }
    }
}
