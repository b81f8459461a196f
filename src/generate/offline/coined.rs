//! New one-word names for a column whose every value is a name of its own (countries,
//! brands, places): letters chained the way the column's names chain them, so a new name
//! sounds like the others ("Belmor", "Corvana" → "Corvmor") without being one of them.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::seq::IndexedRandom;

/// Letters of context a next letter is drawn from.
const ORDER: usize = 2;
/// Attempts at a name that is new and of a length the column has.
const ATTEMPTS: usize = 40;

#[derive(Debug, Clone)]
pub struct Coined {
    /// The letters seen after each context (`^` pads the start), `$` ends a name.
    next: HashMap<String, Vec<char>>,
    lengths: Vec<usize>,
    known: HashSet<String>,
}

impl Coined {
    /// Learns from the column's values when every one is a single word of letters
    /// (apostrophes and hyphens allowed) starting with a capital, as names are.
    pub fn learn(texts: &[&str]) -> Option<Self> {
        // A capital, then small letters: a name, not a code ("AVA", "SKU").
        let is_name = |t: &&str| {
            let mut chars = t.chars();
            chars.next().is_some_and(char::is_uppercase)
                && t.chars().count() >= 3
                && t.chars().any(char::is_lowercase)
                && t.chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        };
        if texts.len() < 10 || !texts.iter().all(is_name) {
            return None;
        }
        let mut next: HashMap<String, Vec<char>> = HashMap::new();
        for text in texts {
            let padded: Vec<char> = std::iter::repeat_n('^', ORDER)
                .chain(text.chars())
                .chain(std::iter::once('$'))
                .collect();
            for w in padded.windows(ORDER + 1) {
                let context: String = w[..ORDER].iter().collect();
                next.entry(context).or_default().push(w[ORDER]);
            }
        }
        Some(Self {
            next,
            lengths: texts.iter().map(|t| t.chars().count()).collect(),
            known: texts.iter().map(|t| t.to_string()).collect(),
        })
    }

    /// A new name (or, after many tries, the longest chain walked).
    pub fn make<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        let (lo, hi) = (
            self.lengths.iter().copied().min().unwrap_or(3),
            self.lengths.iter().copied().max().unwrap_or(12),
        );
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let mut name = String::new();
            let mut context: Vec<char> = vec!['^'; ORDER];
            loop {
                let key: String = context.iter().collect();
                let Some(&c) = self.next.get(&key).and_then(|options| options.choose(rng)) else {
                    break;
                };
                if c == '$' || name.chars().count() > hi {
                    break;
                }
                name.push(c);
                context.remove(0);
                context.push(c);
            }
            let n = name.chars().count();
            if (lo..=hi).contains(&n) && !self.known.contains(&name) {
                return name;
            }
            last = name;
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn new_names_sound_like_the_columns_and_are_none_of_them() {
        let names = [
            "Avaria", "Belmor", "Corvana", "Dunmark", "Estoria", "Falland", "Gorvia", "Helmsa",
            "Istrea", "Jovania", "Kelmar", "Lutria", "Mirano", "Norvik", "Ostrava", "Pellan",
        ];
        let coined = Coined::learn(&names).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let made: Vec<String> = (0..50).map(|_| coined.make(&mut rng)).collect();
        let new = made.iter().filter(|m| !names.contains(&m.as_str())).count();
        assert!(new >= 45, "{made:?}");
        for m in &made {
            assert!(m.chars().next().is_some_and(char::is_uppercase), "{m}");
            assert!((6..=7).contains(&m.chars().count()), "{m}");
        }
        assert!(Coined::learn(&["Two words", "Alpha", "Beta"]).is_none());
        let codes = [
            "AVA", "BEL", "COR", "DUN", "EST", "FAL", "GOR", "HEL", "IST", "JOV",
        ];
        assert!(Coined::learn(&codes).is_none());
    }
}
