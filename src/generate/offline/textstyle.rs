//! The look of free text: how a value is capitalised, and the clean-up that
//! leaves a made-up value well formed (balanced brackets, no dangling comma,
//! the column's own way of ending).

/// How a value is capitalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    /// Every significant word capitalised: "Princess of the Dawn".
    Title,
    /// The first word and names only: "Call on arrival".
    Sentence,
    Lower,
    Upper,
    /// Anything else (a lower-case first word, scripts without case): the
    /// words keep the form they have in the column.
    Mixed,
}

/// Where a word stands: the start of the value or of a sentence in it, or
/// inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    Start,
    Inner,
}

/// Words a title leaves in lower case ("Princess of the Dawn"): they say
/// nothing about whether a value is in Title or sentence case.
pub(super) fn is_small(key: &str) -> bool {
    const SMALL: &[&str] = &[
        "a", "an", "the", "and", "or", "nor", "but", "of", "in", "on", "at", "to", "for", "by",
        "with", "from", "as", "vs", "vs.", "via", "per", "into", "onto", "de", "la", "le", "du",
        "del", "von", "van", "&",
    ];
    SMALL.contains(&key)
}

/// A word whose capitals cannot be derived from its lower-case form
/// ("eBook", "USB", "McDonald", "AC/DC"), or that starts with a digit
/// ("20L"): it is written as the column writes it.
pub(super) fn keeps_own_case(token: &str) -> bool {
    let mut chars = token.chars().skip_while(|c| !c.is_alphanumeric());
    match chars.next() {
        None => true,
        Some(c) if c.is_numeric() => true,
        Some(_) => chars.any(char::is_uppercase),
    }
}

/// The first letter of a token, past any opening punctuation.
fn first_letter(token: &str) -> Option<char> {
    token.chars().find(|c| c.is_alphabetic())
}

/// True when a token closes a sentence, so the next word starts one.
pub(super) fn ends_sentence(token: &str) -> bool {
    token
        .trim_end_matches(['"', '\'', ')', ']'])
        .ends_with(['.', '!', '?'])
}

/// The case of a value, and whether the value shows it: a single
/// capitalised word fits Title and sentence case alike, so it is `Title`
/// but not decisive.
pub(super) fn classify(value: &str) -> (Case, bool) {
    let (mut upper, mut lower, mut letters) = (false, false, 0usize);
    for c in value.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        upper |= c.is_uppercase();
        lower |= c.is_lowercase();
    }
    match (upper, lower) {
        (true, false) if letters >= 2 => return (Case::Upper, true),
        (false, true) => return (Case::Lower, true),
        (false, false) | (true, false) => return (Case::Mixed, false),
        _ => {}
    }
    let (mut capital_start, mut title_votes, mut sentence_votes) = (None, 0, 0);
    let mut position = Position::Start;
    let mut first = true;
    for token in value.split_whitespace() {
        let next = if ends_sentence(token) {
            Position::Start
        } else {
            Position::Inner
        };
        let Some(letter) = first_letter(token) else {
            position = next;
            continue;
        };
        if !keeps_own_case(token) {
            let capital = letter.is_uppercase();
            if first {
                capital_start = Some(capital);
            } else if position == Position::Inner && !is_small(&token.to_lowercase()) {
                if capital {
                    title_votes += 1;
                } else {
                    sentence_votes += 1;
                }
            }
        }
        first = false;
        position = next;
    }
    if capital_start == Some(false) {
        return (Case::Mixed, true);
    }
    // Names keep their capitals inside a sentence, so a sentence may have
    // a few; a title with a lower-case word in it is rarer still.
    if sentence_votes > 0 && sentence_votes >= title_votes {
        (Case::Sentence, true)
    } else {
        (Case::Title, title_votes > 0)
    }
}

/// Capitalises the first letter, leaving the rest as it is.
fn capitalise(word: &str) -> String {
    let mut done = false;
    word.chars()
        .flat_map(|c| {
            if !done && c.is_alphabetic() {
                done = true;
                c.to_uppercase().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// How the column writes its words, besides the case of the whole value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Casing {
    /// Titles capitalise small words too ("Princess Of The Dawn").
    pub small_caps: bool,
}

/// One word written in a case. `surface` is the column's usual form of the
/// word; `proper` says the column capitalises it inside sentences (a name).
pub(super) fn cased(
    surface: &str,
    case: Case,
    position: Position,
    proper: bool,
    casing: Casing,
) -> String {
    let lower = surface.to_lowercase();
    match case {
        Case::Upper => surface.to_uppercase(),
        Case::Lower => lower,
        Case::Mixed => surface.to_string(),
        _ if keeps_own_case(surface) => surface.to_string(),
        Case::Title => {
            if position == Position::Inner && is_small(&lower) && !casing.small_caps {
                lower
            } else {
                capitalise(&lower)
            }
        }
        Case::Sentence => {
            if position == Position::Start || proper || lower == "i" || lower.starts_with("i'") {
                capitalise(&lower)
            } else {
                lower
            }
        }
    }
}

/// Marks that open a word ("(I") and that close one ("No)", "Snowballed,").
const OPENING: &[char] = &['(', '[', '"', '\u{201c}'];
const CLOSING: &[char] = &[')', ']', '"', '\u{201d}', ',', '.', ';', ':', '!', '?'];

/// A token's opening marks, its word, and its closing marks. A short
/// capitalised word keeps its period inside a value ("Vol.", "St."): an
/// abbreviation, not the end of a sentence. A token of marks only ("&",
/// "-") is a word of its own.
pub(super) fn split_marks(token: &str, last: bool) -> (&str, &str, &str) {
    let start = token.len() - token.trim_start_matches(OPENING).len();
    let rest = &token[start..];
    let mut end = rest.trim_end_matches(CLOSING).len();
    let word = &rest[..end];
    if word.is_empty() {
        return ("", token, "");
    }
    let abbreviation = !last
        && rest[end..].starts_with('.')
        && !rest[end..].starts_with("..")
        && word.chars().count() <= 3
        && word.chars().all(char::is_alphabetic)
        && word.chars().next().is_some_and(char::is_uppercase);
    if abbreviation {
        end += 1;
    }
    (&token[..start], &rest[..end], &rest[end..])
}

const PAIRS: [(char, char); 2] = [('(', ')'), ('[', ']')];

/// Makes words strung together from different values well formed: no
/// punctuation-only word at either end or dangling comma at the end,
/// brackets that close, quotes that pair.
pub(super) fn finish(mut words: Vec<String>) -> String {
    let has_alnum = |w: &String| w.chars().any(char::is_alphanumeric);
    while words.len() > 1 && !words.last().is_some_and(has_alnum) {
        words.pop();
    }
    while words.len() > 1 && !words.first().is_some_and(has_alnum) {
        words.remove(0);
    }
    if words.is_empty() {
        return String::new();
    }
    if let Some(last) = words.last_mut() {
        let kept = last.trim_end_matches([',', ';', ':', '-', '/', '&']);
        if !kept.is_empty() {
            last.truncate(kept.len());
        }
    }
    for (open, close) in PAIRS {
        // A closer with no opener goes; an opener left open closes at the
        // end, unless it opens the value: values wholly in brackets are rare.
        let mut opened: Vec<(usize, usize)> = Vec::new();
        let mut dropped: Vec<(usize, usize)> = Vec::new();
        for (w, word) in words.iter().enumerate() {
            for (b, c) in word.char_indices() {
                if c == open {
                    opened.push((w, b));
                } else if c == close && opened.pop().is_none() {
                    dropped.push((w, b));
                }
            }
        }
        let mut closes = 0;
        for at in opened {
            if at.0 == 0 {
                dropped.push(at);
            } else {
                closes += 1;
            }
        }
        dropped.sort_unstable();
        for (w, b) in dropped.into_iter().rev() {
            words[w].remove(b);
        }
        words.retain(|w| !w.is_empty());
        if let Some(last) = words.last_mut() {
            last.push_str(&close.to_string().repeat(closes));
        }
    }
    let quotes = words
        .iter()
        .flat_map(|w| w.chars())
        .filter(|c| *c == '"')
        .count();
    if quotes % 2 == 1 {
        for w in &mut words {
            w.retain(|c| c != '"');
        }
        words.retain(|w| !w.is_empty());
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_case_of_values() {
        assert_eq!(classify("Princess of the Dawn"), (Case::Title, true));
        assert_eq!(classify("Let There Be Rock"), (Case::Title, true));
        assert_eq!(
            classify("(I Can't Get No) Satisfaction"),
            (Case::Title, true)
        );
        assert_eq!(classify("Snowballed"), (Case::Title, false));
        assert_eq!(classify("Call on arrival"), (Case::Sentence, true));
        assert_eq!(
            classify("Works fine with Windows. Setup was quick."),
            (Case::Sentence, true)
        );
        assert_eq!(classify("chevrolet chevelle malibu"), (Case::Lower, true));
        assert_eq!(classify("FRAGILE GOODS"), (Case::Upper, true));
        assert_eq!(classify("eBay listing"), (Case::Sentence, true));
        assert_eq!(classify("iPhone Case"), (Case::Title, true));
        assert_eq!(classify("1999"), (Case::Mixed, false));
    }

    #[test]
    fn writes_words_in_a_case() {
        let casing = Casing { small_caps: false };
        assert_eq!(
            cased("the", Case::Title, Position::Inner, false, casing),
            "the"
        );
        assert_eq!(
            cased("the", Case::Title, Position::Start, false, casing),
            "The"
        );
        assert_eq!(
            cased("(i", Case::Title, Position::Start, false, casing),
            "(I"
        );
        assert_eq!(
            cased("Rock", Case::Sentence, Position::Inner, false, casing),
            "rock"
        );
        assert_eq!(
            cased("Paris", Case::Sentence, Position::Inner, true, casing),
            "Paris"
        );
        assert_eq!(
            cased("USB", Case::Sentence, Position::Inner, false, casing),
            "USB"
        );
        assert_eq!(
            cased("eBook", Case::Title, Position::Start, false, casing),
            "eBook"
        );
        assert_eq!(
            cased("can't", Case::Upper, Position::Inner, false, casing),
            "CAN'T"
        );
    }

    #[test]
    fn finishes_values_well_formed() {
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(finish(w("Snowballed, Part,")), "Snowballed, Part");
        assert_eq!(
            finish(w("(I Can't Get No) Satisfaction")),
            "(I Can't Get No) Satisfaction"
        );
        assert_eq!(finish(w("Get No) Satisfaction")), "Get No Satisfaction");
        assert_eq!(finish(w("(Don't Stop Now")), "Don't Stop Now");
        assert_eq!(finish(w("Stay (Extended Mix")), "Stay (Extended Mix)");
        assert_eq!(finish(w("Stay (Extended,")), "Stay (Extended)");
        assert_eq!(finish(w("- Rock and -")), "Rock and");
        assert_eq!(finish(w("Works \"fine")), "Works fine");
        assert_eq!(finish(w("Done.")), "Done.");
    }

    #[test]
    fn splits_marks_from_words() {
        assert_eq!(split_marks("(I", false), ("(", "I", ""));
        assert_eq!(split_marks("No)", false), ("", "No", ")"));
        assert_eq!(split_marks("Snowballed,", false), ("", "Snowballed", ","));
        assert_eq!(split_marks("Can't", false), ("", "Can't", ""));
        assert_eq!(split_marks("(Live).", true), ("(", "Live", ")."));
        assert_eq!(split_marks("Vol.", false), ("", "Vol.", ""));
        assert_eq!(split_marks("Use.", true), ("", "Use", "."));
        assert_eq!(split_marks("&", false), ("", "&", ""));
        assert_eq!(split_marks("...", false), ("", "...", ""));
    }
}
