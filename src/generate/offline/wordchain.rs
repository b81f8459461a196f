//! A chain of words learned from a column's values: the words that start
//! a value, follow each word (and each pair of words) and end a value,
//! walked for a given number of words.

use std::collections::HashMap;

use rand::Rng;

/// Chain state 0 is the start of a value; state `1 + i` follows word `i`.
const START: usize = 0;

/// A weighted draw of ids, by cumulative weights.
#[derive(Debug, Clone, Default)]
struct Draw {
    ids: Vec<u32>,
    cumulative: Vec<u64>,
}

impl Draw {
    fn new(weights: impl IntoIterator<Item = (u32, u64)>) -> Self {
        let mut draw = Self::default();
        let mut total = 0;
        for (id, w) in weights.into_iter().filter(|(_, w)| *w > 0) {
            total += w;
            draw.ids.push(id);
            draw.cumulative.push(total);
        }
        draw
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<u32> {
        let total = *self.cumulative.last()?;
        let r = rng.random_range(0..total);
        Some(self.ids[self.cumulative.partition_point(|&c| c <= r)])
    }
}

#[derive(Debug, Clone)]
struct Word {
    /// The column's most common way of writing the word.
    surface: String,
    /// Uses that ended a value, and that went on to another word.
    ends: u64,
    goes_on: u64,
}

/// Counts `item` in a small list that keeps first-seen order (so ties
/// resolve the same way on every run).
pub(super) fn bump<T: PartialEq>(counts: &mut Vec<(T, u64)>, item: T) {
    match counts.iter_mut().find(|(t, _)| *t == item) {
        Some((_, n)) => *n += 1,
        None => counts.push((item, 1)),
    }
}

#[derive(Debug, Clone)]
pub(super) struct WordChain {
    words: Vec<Word>,
    /// Lower-cased word to its id.
    index: HashMap<String, u32>,
    /// Per chain state: the words that follow it and go on to other words
    /// (inside a value), and those that end a value (for the last word).
    next: Vec<Draw>,
    next_last: Vec<Draw>,
    /// Per chain state: the words that follow it and are followed by a word
    /// that ends values (for the word before the last), so a value ends
    /// on a word that ends values where it came from.
    next_to_last: Vec<Draw>,
    /// The words that follow each pair of words, with their counts, where
    /// the column continues the pair in more than one way: there walks keep
    /// its runs of three words (a pair with one way on would only copy).
    pairs: HashMap<(u32, u32), Vec<(u32, u64)>>,
    /// For a chain that runs out: every word that goes on, every word that
    /// ends a value, those of them with a letter or digit (to stand alone),
    /// and every word with a letter or digit.
    any: Draw,
    any_last: Draw,
    any_alone: Draw,
    any_alnum: Draw,
}

impl WordChain {
    /// Learns from values given as their words. Words are the same word
    /// in any case; each keeps its most common spelling.
    pub(super) fn learn<'a>(values: impl IntoIterator<Item = Vec<&'a str>>) -> Self {
        let mut words: Vec<Word> = Vec::new();
        let mut spellings: Vec<Vec<(&str, u64)>> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut transitions: HashMap<(usize, u32), u64> = HashMap::new();
        let mut triples: HashMap<(u32, u32, u32), u64> = HashMap::new();
        for value in values {
            let mut state = START;
            let mut before = START;
            for word in value {
                let id = *index.entry(word.to_lowercase()).or_insert_with(|| {
                    words.push(Word {
                        surface: word.to_string(),
                        ends: 0,
                        goes_on: 0,
                    });
                    spellings.push(Vec::new());
                    (words.len() - 1) as u32
                });
                bump(&mut spellings[id as usize], word);
                *transitions.entry((state, id)).or_default() += 1;
                if state != START {
                    words[state - 1].goes_on += 1;
                }
                if before != START {
                    *triples
                        .entry(((before - 1) as u32, (state - 1) as u32, id))
                        .or_default() += 1;
                }
                before = state;
                state = id as usize + 1;
            }
            if state != START {
                words[state - 1].ends += 1;
            }
        }
        for (word, forms) in words.iter_mut().zip(&spellings) {
            // The first of the most common spellings.
            let mut best: Option<&(&str, u64)> = None;
            for form in forms {
                if best.is_none_or(|b| form.1 > b.1) {
                    best = Some(form);
                }
            }
            if let Some((surface, _)) = best {
                word.surface = surface.to_string();
            }
        }

        let mut links: Vec<((usize, u32), u64)> = transitions.into_iter().collect();
        links.sort_unstable();
        let states = || links.chunk_by(|a, b| a.0.0 == b.0.0).map(|g| (g[0].0.0, g));
        let draw_of = |group: &[((usize, u32), u64)], keep: &dyn Fn(&Word, usize) -> bool| {
            Draw::new(
                group
                    .iter()
                    .filter(|((_, id), _)| keep(&words[*id as usize], *id as usize))
                    .map(|((_, id), n)| (*id, *n)),
            )
        };
        let mut next = vec![Draw::default(); words.len() + 1];
        let mut next_last = vec![Draw::default(); words.len() + 1];
        // Inside a value only words that went on in the column, so a word
        // that only ever ended a value ("care") ends one here too.
        for (state, group) in states() {
            next[state] = draw_of(group, &|w, _| w.goes_on > 0);
            next_last[state] = draw_of(group, &|w, _| w.ends > 0);
        }
        let mut next_to_last = vec![Draw::default(); words.len() + 1];
        for (state, group) in states() {
            next_to_last[state] = draw_of(group, &|_, id| !next_last[id + 1].ids.is_empty());
        }

        let mut runs: Vec<((u32, u32, u32), u64)> = triples.into_iter().collect();
        runs.sort_unstable();
        let mut pairs: HashMap<(u32, u32), Vec<(u32, u64)>> = HashMap::new();
        for ((a, b, c), n) in runs {
            pairs.entry((a, b)).or_default().push((c, n));
        }
        pairs.retain(|_, ways| ways.len() > 1);

        let weighted = |w: &dyn Fn(&Word) -> u64| {
            Draw::new(
                words
                    .iter()
                    .enumerate()
                    .map(|(i, word)| (i as u32, w(word))),
            )
        };
        let alnum = |w: &Word| w.surface.chars().any(char::is_alphanumeric);
        let any = weighted(&|w| w.goes_on);
        let any_last = weighted(&|w| w.ends);
        let any_alone = weighted(&|w| if alnum(w) { w.ends } else { 0 });
        let any_alnum = weighted(&|w| if alnum(w) { w.ends + w.goes_on } else { 0 });
        Self {
            words,
            index,
            next,
            next_last,
            next_to_last,
            pairs,
            any,
            any_last,
            any_alone,
            any_alnum,
        }
    }

    /// The id of a word, in any case.
    pub(super) fn id(&self, word: &str) -> Option<u32> {
        self.index.get(&word.to_lowercase()).copied()
    }

    /// The column's usual spelling of a word.
    pub(super) fn surface(&self, id: u32) -> &str {
        &self.words[id as usize].surface
    }

    pub(super) fn len(&self) -> usize {
        self.words.len()
    }

    /// Any word with a letter or digit, by use.
    pub(super) fn any_word<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<u32> {
        self.any_alnum.draw(rng)
    }

    /// Walks the chain for `length` words, ending on a word that ends
    /// values; at each word after the first it leaves the chain with
    /// probability `leap` for any word that may stand there.
    pub(super) fn walk<R: Rng + ?Sized>(
        &self,
        length: usize,
        seed: Option<u32>,
        leap: f64,
        rng: &mut R,
    ) -> Vec<u32> {
        let mut ids = Vec::with_capacity(length);
        let mut state = START;
        for position in 0..length {
            let last = position + 1 == length;
            let leaping = position > 0 && rng.random_bool(leap);
            let run = match ids[..] {
                [.., a, b] if !leaping => self.follow_pair(a, b, length - position, rng),
                _ => None,
            };
            let id = match seed {
                Some(id) if position == 0 => Some(id),
                _ if run.is_some() => run,
                _ if leaping && last => self.any_last.draw(rng),
                _ if leaping => self.any.draw(rng),
                // A one-word value: any word that ends values, so the last
                // word of a longer title can stand alone ("Engine").
                _ if last && position == 0 => {
                    self.any_alone.draw(rng).or_else(|| self.any_last.draw(rng))
                }
                _ if last => self.next_last[state]
                    .draw(rng)
                    .or_else(|| self.any_last.draw(rng)),
                _ if position + 2 == length => self.next_to_last[state]
                    .draw(rng)
                    .or_else(|| self.next[state].draw(rng))
                    .or_else(|| self.any.draw(rng)),
                _ => self.next[state].draw(rng).or_else(|| self.any.draw(rng)),
            };
            let Some(id) = id else { break };
            ids.push(id);
            state = id as usize + 1;
        }
        ids
    }

    /// A word that follows the pair `a b` in the column and can stand
    /// where the walk is (`left` words to go, this one included).
    fn follow_pair<R: Rng + ?Sized>(
        &self,
        a: u32,
        b: u32,
        left: usize,
        rng: &mut R,
    ) -> Option<u32> {
        let fits = |id: u32| {
            let word = &self.words[id as usize];
            match left {
                1 => word.ends > 0,
                2 => !self.next_last[id as usize + 1].ids.is_empty(),
                _ => word.goes_on > 0,
            }
        };
        // A weighted draw over the ways on that fit, without collecting them.
        let ways = self.pairs.get(&(a, b))?;
        let fitting = || ways.iter().filter(|(id, _)| fits(*id));
        let total: u64 = fitting().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let mut r = rng.random_range(0..total);
        fitting().find_map(|&(id, n)| {
            if r < n {
                Some(id)
            } else {
                r -= n;
                None
            }
        })
    }
}
