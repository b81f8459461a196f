//! New names, streets and companies from the `fake` crate, in the locale the
//! table's own text suggests, for when the table has too few of its own.

use fake::Fake;
use fake::faker::address::raw::StreetName;
use fake::faker::company::raw::CompanyName;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{DE_DE, EN, FR_FR, IT_IT, JA_JP, PT_BR, ZH_CN};
use rand::Rng;

/// What a text column holds, judged from its name and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantic {
    FirstName,
    LastName,
    FullName,
    Street,
    Company,
}

/// Recognises name, street and company columns by their column names.
pub fn semantic_of(column: &str) -> Option<Semantic> {
    let c = column.to_ascii_lowercase().replace(['-', ' '], "_");
    let is = |names: &[&str]| names.contains(&c.as_str());
    if is(&[
        "first_name",
        "firstname",
        "given_name",
        "givenname",
        "fname",
        "forename",
    ]) {
        Some(Semantic::FirstName)
    } else if is(&[
        "last_name",
        "lastname",
        "surname",
        "family_name",
        "familyname",
        "lname",
    ]) {
        Some(Semantic::LastName)
    } else if is(&[
        "name",
        "full_name",
        "fullname",
        "customer_name",
        "person",
        "contact_name",
        "employee_name",
        "author",
    ]) {
        Some(Semantic::FullName)
    } else if is(&[
        "street",
        "address",
        "address1",
        "address_1",
        "street_address",
        "address_line1",
        "address_line_1",
    ]) {
        Some(Semantic::Street)
    } else if is(&[
        "company",
        "company_name",
        "employer",
        "organization",
        "organisation",
        "business_name",
    ]) {
        Some(Semantic::Company)
    } else {
        None
    }
}

/// Whether a column's values look like people's full names: most are two
/// to four capitalised words of letters ("Ada Lovelace", "Jean-Luc de la
/// Cruz"), with no digits, brackets or common words ("Back In Black",
/// "Alice In Chains" and "Gel Ink Pens, 12-Pack" are not people).
pub fn looks_like_people(texts: &[&str]) -> bool {
    const PARTICLES: &[&str] = &[
        "de", "da", "di", "do", "dos", "das", "del", "della", "der", "den", "du", "la", "le",
        "van", "von", "ten", "ter", "bin", "al", "y", "e",
    ];
    const COMMON: &[&str] = &[
        "the", "of", "in", "on", "at", "to", "for", "and", "or", "a", "an", "with", "from", "my",
        "your", "me", "you", "it", "is", "be", "we", "all", "no", "not", "up", "out", "this",
        "that", "love",
    ];
    let person = |t: &&&str| {
        let words: Vec<&str> = t.split_whitespace().collect();
        (2..=4).contains(&words.len())
            && words.iter().all(|w| {
                let lower = w.to_lowercase();
                let first = w.chars().next().unwrap_or(' ');
                !COMMON.contains(&lower.as_str())
                    && w.chars()
                        .all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | ','))
                    && (!first.is_lowercase() || PARTICLES.contains(&lower.as_str()))
            })
    };
    !texts.is_empty() && texts.iter().filter(person).count() * 10 >= texts.len() * 7
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    De,
    Fr,
    It,
    PtBr,
    Ja,
    Zh,
}

/// Guesses the locale from sample text: the script and accents it uses.
pub fn detect_locale<'a>(texts: impl Iterator<Item = &'a str>) -> Locale {
    let (mut han, mut kana, mut german, mut french, mut portuguese, mut italian, mut total) =
        (0, 0, 0, 0, 0, 0, 0);
    for t in texts {
        total += 1;
        for ch in t.chars() {
            match ch {
                '\u{3040}'..='\u{30ff}' => kana += 1,
                '\u{4e00}'..='\u{9fff}' => han += 1,
                'ä' | 'ö' | 'ü' | 'ß' | 'Ä' | 'Ö' | 'Ü' => german += 1,
                'é' | 'è' | 'ê' | 'ç' | 'à' | 'â' | 'î' | 'ô' | 'û' | 'ë' | 'ï' => {
                    french += 1
                }
                'ã' | 'õ' => portuguese += 1,
                'ì' | 'ò' | 'ù' => italian += 1,
                _ => {}
            }
        }
    }
    if total == 0 {
        return Locale::En;
    }
    let threshold = (total / 10).max(1);
    if kana >= threshold {
        Locale::Ja
    } else if han >= threshold {
        Locale::Zh
    } else if german >= threshold {
        Locale::De
    } else if portuguese >= threshold {
        Locale::PtBr
    } else if french >= threshold {
        Locale::Fr
    } else if italian >= threshold {
        Locale::It
    } else {
        Locale::En
    }
}

macro_rules! in_locale {
    ($faker:ident, $locale:expr, $rng:expr) => {
        match $locale {
            Locale::En => $faker(EN).fake_with_rng::<String, _>($rng),
            Locale::De => $faker(DE_DE).fake_with_rng::<String, _>($rng),
            Locale::Fr => $faker(FR_FR).fake_with_rng::<String, _>($rng),
            Locale::It => $faker(IT_IT).fake_with_rng::<String, _>($rng),
            Locale::PtBr => $faker(PT_BR).fake_with_rng::<String, _>($rng),
            Locale::Ja => $faker(JA_JP).fake_with_rng::<String, _>($rng),
            Locale::Zh => $faker(ZH_CN).fake_with_rng::<String, _>($rng),
        }
    };
}

pub fn first_name<R: Rng + ?Sized>(locale: Locale, rng: &mut R) -> String {
    in_locale!(FirstName, locale, rng)
}

pub fn last_name<R: Rng + ?Sized>(locale: Locale, rng: &mut R) -> String {
    in_locale!(LastName, locale, rng)
}

pub fn street_name<R: Rng + ?Sized>(locale: Locale, rng: &mut R) -> String {
    in_locale!(StreetName, locale, rng)
}

pub fn company<R: Rng + ?Sized>(locale: Locale, rng: &mut R) -> String {
    in_locale!(CompanyName, locale, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn recognises_columns_and_locales() {
        assert_eq!(semantic_of("first_name"), Some(Semantic::FirstName));
        assert_eq!(semantic_of("Surname"), Some(Semantic::LastName));
        assert_eq!(semantic_of("street"), Some(Semantic::Street));
        assert_eq!(semantic_of("price"), None);
        assert_eq!(
            detect_locale(["Jürgen Müller", "Hans Groß"].into_iter()),
            Locale::De
        );
        assert_eq!(
            detect_locale(["山田 太郎", "すずき"].into_iter()),
            Locale::Ja
        );
        assert_eq!(detect_locale(["Ada", "Grace"].into_iter()), Locale::En);
    }

    #[test]
    fn tells_people_from_titles() {
        assert!(looks_like_people(&[
            "Ada Lovelace",
            "Grace Hopper",
            "Jean-Luc de la Cruz",
            "Seán O'Brien",
            "山田 太郎",
        ]));
        assert!(!looks_like_people(&[
            "Back In Black",
            "Alice In Chains",
            "Gel Ink Pens, 12-Pack",
            "Snowblind",
            "Let There Be Rock",
        ]));
        assert!(!looks_like_people(&[]));
    }

    #[test]
    fn fakes_are_repeatable_with_a_seed() {
        let mut a = rand::rngs::StdRng::seed_from_u64(1);
        let mut b = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(
            first_name(Locale::En, &mut a),
            first_name(Locale::En, &mut b)
        );
        assert!(!street_name(Locale::De, &mut a).is_empty());
    }
}
