//! The offline generator: realistic rows with no LLM and no network, learned
//! from the table itself.
//!
//! Each new row starts from an *anchor*: a random existing row. Columns that
//! describe things (category, city, state and zip, status, nullness) keep the
//! anchor's values together, so combinations that occur together keep doing
//! so. Numbers and times move away from the anchor by a kernel-density step,
//! so their distributions follow the table's without copying it. Keys and
//! identifiers are new (sequences continue, UUIDs are fresh), names, streets
//! and companies are recombined or come from the `fake` crate, emails are
//! built from the row's own names the way the table builds them, free text
//! that identifies a row (titles, descriptions) is written anew from the
//! column's own words and never copied, and rules found in the data (start <= end, price * qty = total, product -> price)
//! are applied last.

mod choose;
mod coined;
pub(crate) mod fakes;
mod freetext;
mod kernel;
pub(crate) mod relations;
pub(crate) mod temporal;
mod text;
mod textstyle;
mod values;
mod wordchain;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rusqlite::types::Value;

use super::lineage::Given;
use super::parse::Candidate;
use super::plan::Plan;
use crate::db::catalog::Affinity;
use crate::db::profile::TableProfile;
use choose::{choose_gen, schema_only_gen};
use fakes::{Locale, Semantic};
use relations::{Arithmetic, EmailModel, Op, OrderedPair};
use temporal::TimeStyle;
use text::{
    from_shape, names_of, new_phone, pick_or_fake, typed_value, weighted, weighted_pattern,
};
use values::{gaussian, is_numeric_column, kernel_step, number, number_value, text};

/// What the generator needs to know about the table.
pub struct Learning<'a> {
    pub plan: &'a Plan,
    pub profile: Option<&'a TableProfile>,
    /// Existing rows (a bounded random sample), with their column names.
    pub columns: &'a [String],
    pub rows: &'a [Vec<Value>],
    /// Allowed parent key tuples for each foreign key of the plan.
    pub parent_keys: &'a [Vec<Vec<Value>>],
    /// The largest existing number of each sequence-like column (unique
    /// integers and codes), read from the whole table.
    pub sequence_max: &'a [Option<i64>],
}

/// How one column's values are made.
#[derive(Debug, Clone)]
enum Gen {
    /// The anchor row's value.
    Anchor,
    /// The anchor's number plus a kernel step, kept within the seen range.
    Number {
        lo: f64,
        hi: f64,
        step: f64,
        integer: bool,
        decimals: u32,
        real: bool,
        shape: kernel::NumberShape,
    },
    /// The anchor's time plus a kernel step, in the anchor's own style.
    Time {
        lo: f64,
        hi: f64,
        step: f64,
        style: TimeStyle,
        /// Every value is at midnight (a date written with a time): new ones are too.
        days: bool,
    },
    /// `prefix` + zero-padded number, continuing the sequence.
    Code {
        prefix: String,
        width: usize,
        next: i64,
        gaps: Vec<i64>,
        /// Where to go on when the sequence reaches the end of i64.
        restart: i64,
    },
    /// A unique integer continuing the sequence.
    Counter {
        next: i64,
        gaps: Vec<i64>,
        /// Where to go on when the sequence reaches the end of i64.
        restart: i64,
    },
    Uuid {
        upper: bool,
    },
    /// The anchor's phone with its area code kept and the rest new.
    Phone,
    Person {
        part: Semantic,
        firsts: Vec<String>,
        lasts: Vec<String>,
        fake_share: f64,
    },
    Street {
        names: Vec<String>,
        fake_share: f64,
    },
    Company {
        names: Vec<String>,
        fake_share: f64,
    },
    /// An email from the row's names, or a new local part, at the anchor's domain.
    Email {
        model: Option<EmailModel>,
        locals: Vec<String>,
    },
    /// New identity-like free text (titles, descriptions) in the column's
    /// own words and style, never a copy of a training value.
    FreeText(Box<freetext::FreeText>),
    /// A new one-word name, its letters chained as the column's names chain them.
    Coined(Box<coined::Coined>),
    /// The anchor's text with its last letters or digits changed, class for class: a
    /// value every row has its own, that still belongs with the rest of the row.
    Varied,
    /// A value of the same shape as the column's values (`AAA-9999`).
    Shape {
        shapes: Vec<(String, u64)>,
    },
    /// One column of a foreign key: the parent tuple chosen for the row.
    ForeignKey {
        key: usize,
        position: usize,
    },
    /// One of a CHECK's allowed values (tables with no rows yet).
    Choice(Vec<Value>),
    /// A plausible value of the declared type (tables with no rows yet).
    Typed {
        affinity: Affinity,
        column: String,
    },
}

/// A learned model of one table.
pub struct OfflineModel {
    gens: Vec<Gen>,
    /// Training rows aligned with the plan's columns.
    anchors: Vec<Vec<Value>>,
    /// Per anchor row and column: its number, or its time in seconds with
    /// the index of its style in `styles`; parsed once, used per row.
    views: Vec<Vec<Option<(f64, u16)>>>,
    styles: Vec<TimeStyle>,
    /// Correlated standard-normal steps for the columns that move, and each
    /// column's position in them.
    kernel: kernel::Correlated,
    kernel_index: Vec<Option<usize>>,
    /// Anchors for the main draw are dealt from a shuffled deck, so every
    /// existing row anchors as often as the others and category shares
    /// match the table's.
    deck: Vec<usize>,
    dealt: usize,
    scratch: Scratch,
    /// Which anchor draw each column uses (0 = the row's main anchor).
    slot_of: Vec<usize>,
    slots: usize,
    not_null: Vec<bool>,
    /// Ordered pairs with the kernel step of their gaps and the smallest gap.
    pairs: Vec<(OrderedPair, f64, f64)>,
    arithmetic: Vec<Arithmetic>,
    parent_keys: Vec<Vec<Vec<Value>>>,
    /// Per foreign key: the column index of each of its columns.
    fk_columns: Vec<Vec<usize>>,
    /// Per foreign key: other columns follow its value (a product's price),
    /// so only parents seen in the table can be used.
    fk_led: Vec<bool>,
    locale: Locale,
    /// Column indexes of the name parts an email is built from.
    name_columns: (Option<usize>, Option<usize>, Option<usize>),
}

/// Per-row working buffers, reused from row to row.
#[derive(Default)]
struct Scratch {
    picks: Vec<Option<usize>>,
    noise: Vec<f64>,
    steps: Vec<f64>,
    shadow: Vec<Option<f64>>,
}

/// Share of child rows that pick a parent at random instead of the anchor's.
const FRESH_PARENT_SHARE: f64 = 0.1;

impl OfflineModel {
    /// Learns from the table. With no rows (generation from the schema
    /// alone) it falls back to the declared types.
    pub fn learn(input: &Learning<'_>) -> Self {
        let plan = input.plan;
        let width = plan.columns.len();
        let anchors: Vec<Vec<Value>> = input
            .rows
            .iter()
            .map(|row| {
                plan.columns
                    .iter()
                    .map(|c| {
                        input
                            .columns
                            .iter()
                            .position(|n| n == &c.name)
                            .and_then(|i| row.get(i).cloned())
                            .unwrap_or(Value::Null)
                    })
                    .collect()
            })
            .collect();
        let profile_of = |name: &str| {
            input
                .profile
                .and_then(|p| p.columns.iter().find(|c| c.name == name))
        };
        let locale =
            fakes::detect_locale(
                anchors
                    .iter()
                    .flat_map(|r| r.iter())
                    .filter_map(|v| match v {
                        Value::Text(s) => Some(s.as_str()),
                        _ => None,
                    }),
            );

        let mut fk_columns = vec![Vec::new(); plan.foreign_keys.len()];
        for (k, fk) in plan.foreign_keys.iter().enumerate() {
            fk_columns[k] = fk.columns.clone();
        }

        let column_values = |i: usize| -> Vec<&Value> { anchors.iter().map(|r| &r[i]).collect() };
        let mut gens = Vec::with_capacity(width);
        for (i, column) in plan.columns.iter().enumerate() {
            let values = column_values(i);
            let profile = profile_of(&column.name);
            let how = if let Some(k) = column.foreign_key {
                let position = plan.foreign_keys[k]
                    .columns
                    .iter()
                    .position(|&c| c == i)
                    .unwrap_or(0);
                Gen::ForeignKey { key: k, position }
            } else if anchors.is_empty() {
                schema_only_gen(column)
            } else {
                choose_gen(
                    column.affinity,
                    column.unique,
                    &column.name,
                    &values,
                    profile,
                    input.sequence_max.get(i).copied().flatten(),
                )
            };
            gens.push(how);
        }

        // Composite UNIQUE sets (an order's lines: order and product) would
        // repeat the anchor's combination; give each extra member its own
        // anchor, with the columns it determines (the product's price).
        let mut slot_of = vec![0usize; width];
        let mut slots = 1;
        let mut fk_led = vec![false; plan.foreign_keys.len()];
        for set in plan.unique_sets.iter().filter(|s| s.len() > 1) {
            for &member in &set[1..] {
                if !matches!(gens[member], Gen::Anchor | Gen::ForeignKey { .. })
                    || slot_of[member] != 0
                {
                    continue;
                }
                let followers = relations::determined_by(&anchors, member, set);
                if let Gen::ForeignKey { key, .. } = gens[member]
                    && !followers.is_empty()
                {
                    fk_led[key] = true;
                }
                let slot = slots;
                slots += 1;
                let fk_members: Vec<usize> = match gens[member] {
                    Gen::ForeignKey { key, .. } => fk_columns[key].clone(),
                    _ => vec![member],
                };
                for c in fk_members {
                    slot_of[c] = slot;
                }
                // A determined column is copied with its determinant, never
                // moved on its own (a product's price stays that product's).
                for c in followers {
                    slot_of[c] = slot;
                    if matches!(gens[c], Gen::Number { .. } | Gen::Time { .. }) {
                        gens[c] = Gen::Anchor;
                    }
                }
            }
        }

        // Numeric views for rules: numbers, and times as seconds.
        let views: Vec<Option<Vec<Option<f64>>>> = (0..width)
            .map(|i| match &gens[i] {
                Gen::Number { .. } | Gen::Anchor if is_numeric_column(&column_values(i)) => {
                    Some(column_values(i).iter().map(|v| number(v)).collect())
                }
                Gen::Time { .. } => Some(
                    column_values(i)
                        .iter()
                        .map(|v| text(v).and_then(temporal::parse).map(|t| t.0))
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        let kinds: Vec<u8> = gens
            .iter()
            .map(|g| if matches!(g, Gen::Time { .. }) { 1 } else { 0 })
            .collect();
        let pairs = relations::ordered_pairs(&views, &kinds)
            .into_iter()
            .filter(|p| {
                slot_of[p.earlier] == slot_of[p.later]
                    && matches!(gens[p.later], Gen::Number { .. } | Gen::Time { .. })
            })
            .map(|p| {
                let gaps: Vec<f64> = views[p.earlier]
                    .iter()
                    .flatten()
                    .zip(views[p.later].iter().flatten())
                    .filter_map(|(a, b)| Some((*b)? - (*a)?))
                    .collect();
                let step = kernel_step(&gaps);
                let smallest = gaps.iter().copied().fold(f64::INFINITY, f64::min);
                (p, step, if smallest.is_finite() { smallest } else { 0.0 })
            })
            .collect();
        let number_views: Vec<Option<Vec<Option<f64>>>> = (0..width)
            .map(|i| {
                if kinds[i] == 0 {
                    views[i].clone()
                } else {
                    None
                }
            })
            .collect();
        let decimals: Vec<u32> = (0..width)
            .map(|i| {
                profile_of(&plan.columns[i].name)
                    .and_then(|p| p.numeric.as_ref())
                    .map_or(0, |n| n.max_decimals)
            })
            .collect();
        let results: Vec<bool> = (0..width)
            .map(|i| matches!(gens[i], Gen::Number { .. } | Gen::Anchor) && !plan.columns[i].unique)
            .collect();
        let arithmetic = relations::arithmetic(&number_views, &decimals, &results);

        let find = |part: Semantic| {
            gens.iter()
                .position(|g| matches!(g, Gen::Person { part: p, .. } if *p == part))
        };
        let name_columns = (
            find(Semantic::FirstName),
            find(Semantic::LastName),
            find(Semantic::FullName),
        );
        // Emails built from names: learn how.
        for i in 0..width {
            if let Gen::Email { model, .. } = &mut gens[i] {
                let triples: Vec<(String, String, String)> = anchors
                    .iter()
                    .filter_map(|r| {
                        let email = text(&r[i])?.to_string();
                        let (first, last) = names_of(r, name_columns)?;
                        Some((first, last, email))
                    })
                    .collect();
                *model = relations::email_model(&triples);
            }
        }

        let mut styles: Vec<TimeStyle> = Vec::new();
        let views: Vec<Vec<Option<(f64, u16)>>> = anchors
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&gens)
                    .map(|(v, g)| match g {
                        Gen::Anchor => number(v).map(|n| (n, 0)),
                        Gen::Number { shape, .. } => {
                            number(v).map(|n| (kernel::forward(n, shape.log), 0))
                        }
                        Gen::Time { .. } => text(v).and_then(temporal::parse).map(|(at, style)| {
                            let index =
                                styles.iter().position(|s| *s == style).unwrap_or_else(|| {
                                    styles.push(style);
                                    styles.len() - 1
                                });
                            (at, index as u16)
                        }),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        // One correlated step per row for every column that moves.
        let moving: Vec<usize> = (0..width)
            .filter(|&i| matches!(gens[i], Gen::Number { .. } | Gen::Time { .. }))
            .collect();
        let mut kernel_index = vec![None; width];
        for (k, &i) in moving.iter().enumerate() {
            kernel_index[i] = Some(k);
        }
        let kernel = kernel::Correlated::learn(
            &moving
                .iter()
                .map(|&i| views.iter().map(|row| row[i].map(|(v, _)| v)).collect())
                .collect::<Vec<_>>(),
        );
        Self {
            kernel,
            kernel_index,
            deck: (0..anchors.len()).collect(),
            dealt: usize::MAX,
            scratch: Scratch::default(),
            views,
            styles,
            not_null: plan.columns.iter().map(|c| c.not_null).collect(),
            gens,
            anchors,
            slot_of,
            slots,
            pairs,
            arithmetic,
            parent_keys: input.parent_keys.to_vec(),
            fk_columns,
            fk_led,
            locale,
            name_columns,
        }
    }

    /// Makes one new row.
    pub fn generate<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Candidate {
        self.generate_given(rng, None)
    }

    /// Makes one new row around what its parents give it (a whole-database run): their
    /// keys, values it copies from them, times that follow theirs. The table's own rules
    /// (a ship date after the order date, a total of price times quantity) then build on
    /// those values.
    pub fn generate_given<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        given: Option<&Given>,
    ) -> Candidate {
        let width = self.gens.len();
        // Buffers kept between rows: this runs millions of times.
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut picks = std::mem::take(&mut scratch.picks);
        picks.clear();
        if !self.deck.is_empty() {
            if self.dealt >= self.deck.len() {
                self.deck.shuffle(rng);
                self.dealt = 0;
            }
            picks.push(Some(self.deck[self.dealt]));
            self.dealt += 1;
        } else {
            picks.push(None);
        }
        for _ in 1..self.slots {
            picks.push((!self.anchors.is_empty()).then(|| rng.random_range(0..self.anchors.len())));
        }
        self.kernel
            .draw_into(rng, &mut scratch.noise, &mut scratch.steps);
        let steps = &scratch.steps;
        let step_of = |i: usize| {
            self.kernel_index[i]
                .and_then(|k| steps.get(k).copied())
                .unwrap_or(0.0)
        };
        let anchors: Vec<Option<&Vec<Value>>> =
            picks.iter().map(|p| p.map(|i| &self.anchors[i])).collect();
        let anchor_value = |i: usize| -> Value {
            anchors[self.slot_of[i]]
                .map(|r| r[i].clone())
                .unwrap_or(Value::Null)
        };
        let anchor_view = |i: usize| -> Option<(f64, u16)> {
            picks[self.slot_of[i]].and_then(|p| self.views[p][i])
        };
        let mut row: Vec<Value> = vec![Value::Null; width];
        let mut shadow = std::mem::take(&mut scratch.shadow);
        shadow.clear();
        shadow.resize(width, None);

        // Parents first: one parent tuple per foreign key.
        let mut parents: Vec<Option<Vec<Value>>> = Vec::with_capacity(self.fk_columns.len());
        for (k, cols) in self.fk_columns.iter().enumerate() {
            if let Some(given) = given {
                parents.push(Some(
                    given
                        .parents
                        .get(k)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| vec![Value::Null; cols.len()]),
                ));
                continue;
            }
            let from_anchor: Option<Vec<Value>> = cols
                .first()
                .and_then(|&c| anchors[self.slot_of[c]])
                .map(|r| cols.iter().map(|&c| r[c].clone()).collect());
            let keep_anchor = self.fk_led[k] || rng.random_bool(1.0 - FRESH_PARENT_SHARE);
            let choice = match from_anchor {
                // The anchor's parent (or its NULL) keeps the observed fan-out.
                Some(values) if keep_anchor || values.iter().all(|x| matches!(x, Value::Null)) => {
                    Some(values)
                }
                anchor => self
                    .parent_keys
                    .get(k)
                    .and_then(|keys| keys.choose(rng))
                    .cloned()
                    .or(anchor),
            };
            parents.push(choice);
        }

        for i in 0..width {
            let anchor = anchor_value(i);
            // Nullness follows the anchor (so it co-occurs as in the table);
            // with no rows to learn from, every column gets a value.
            let null_kept = matches!(anchor, Value::Null)
                && !self.not_null[i]
                && anchors[self.slot_of[i]].is_some();
            let value = match &mut self.gens[i] {
                Gen::Anchor => anchor,
                Gen::ForeignKey { key, position } => parents[*key]
                    .as_ref()
                    .and_then(|p| p.get(*position).cloned())
                    .unwrap_or(Value::Null),
                _ if null_kept => Value::Null,
                Gen::Number {
                    lo,
                    hi,
                    step,
                    integer,
                    decimals,
                    real,
                    shape,
                } => {
                    let base = number(&anchor);
                    let v = match base {
                        // A value many rows share (a 0, a round 100) stays as is.
                        Some(b) if shape.masses.contains(&b) => b,
                        _ => {
                            let from =
                                base.map_or((*lo + *hi) / 2.0, |b| kernel::forward(b, shape.log));
                            let t = kernel::reflect(from + *step * step_of(i), *lo, *hi);
                            let mut v = kernel::back(t, shape.log);
                            if shape.keep_fraction
                                && let Some(b) = base
                            {
                                // 24.37 -> 24.99 when the table's prices end in .99.
                                v = (v.trunc() + b.fract()).clamp(
                                    kernel::back(*lo, shape.log),
                                    kernel::back(*hi, shape.log),
                                );
                            }
                            v
                        }
                    };
                    shadow[i] = Some(v);
                    number_value(v, *integer, *decimals, *real)
                }
                Gen::Time {
                    lo,
                    hi,
                    step,
                    style,
                    days,
                } => {
                    let (base, own_style) = match anchor_view(i) {
                        Some((at, s)) => (at, &self.styles[s as usize]),
                        None => ((*lo + *hi) / 2.0, &*style),
                    };
                    let mut v = kernel::reflect(base + *step * step_of(i), *lo, *hi);
                    if own_style.date_only || *days {
                        v = (v / temporal::DAY).floor() * temporal::DAY;
                    } else if !own_style.seconds {
                        v = (v / 60.0).floor() * 60.0;
                    } else if own_style.fraction_digits == 0 {
                        v = v.floor();
                    }
                    shadow[i] = Some(v);
                    temporal::format(v, own_style)
                        .map(Value::Text)
                        .unwrap_or(anchor)
                }
                Gen::Code {
                    prefix,
                    width,
                    next,
                    gaps,
                    restart,
                } => {
                    let n = values::step_sequence(next, gaps, restart, rng);
                    Value::Text(format!("{prefix}{n:0width$}", width = *width))
                }
                Gen::Counter {
                    next,
                    gaps,
                    restart,
                } => Value::Integer(values::step_sequence(next, gaps, restart, rng)),
                Gen::Uuid { upper } => {
                    let id = uuid::Builder::from_random_bytes(rng.random())
                        .into_uuid()
                        .hyphenated()
                        .to_string();
                    Value::Text(if *upper { id.to_uppercase() } else { id })
                }
                Gen::Phone => match text(&anchor) {
                    Some(t) => Value::Text(new_phone(t, rng)),
                    None => anchor,
                },
                Gen::Person {
                    part,
                    firsts,
                    lasts,
                    fake_share,
                } => {
                    let locale = self.locale;
                    Value::Text(match part {
                        Semantic::FirstName => {
                            pick_or_fake(firsts, *fake_share, rng, |r| fakes::first_name(locale, r))
                        }
                        Semantic::LastName => {
                            pick_or_fake(lasts, *fake_share, rng, |r| fakes::last_name(locale, r))
                        }
                        _ => {
                            let f = pick_or_fake(firsts, *fake_share, rng, |r| {
                                fakes::first_name(locale, r)
                            });
                            let l = pick_or_fake(lasts, *fake_share, rng, |r| {
                                fakes::last_name(locale, r)
                            });
                            format!("{f} {l}")
                        }
                    })
                }
                Gen::Street { names, fake_share } => {
                    let number_part = text(&anchor)
                        .and_then(|t| t.split_whitespace().next())
                        .filter(|w| w.chars().all(|c| c.is_ascii_digit()));
                    let digits = number_part.map_or(3, str::len).clamp(1, 6);
                    let house: u32 =
                        rng.random_range(10u32.pow(digits as u32 - 1)..10u32.pow(digits as u32));
                    let name = pick_or_fake(names, *fake_share, rng, |r| {
                        fakes::street_name(self.locale, r)
                    });
                    Value::Text(format!("{house} {name}"))
                }
                Gen::Company { names, fake_share } => {
                    Value::Text(pick_or_fake(names, *fake_share, rng, |r| {
                        fakes::company(self.locale, r)
                    }))
                }
                Gen::FreeText(model) => Value::Text(model.make(text(&anchor), rng)),
                Gen::Coined(model) => Value::Text(model.make(rng)),
                Gen::Varied => match text(&anchor) {
                    Some(t) => Value::Text(text::vary_tail(t, rng)),
                    None => anchor,
                },
                Gen::Email { .. } => Value::Null, // after the names, below
                Gen::Choice(values) => values.choose(rng).cloned().unwrap_or(Value::Null),
                Gen::Typed { affinity, column } => typed_value(*affinity, column, self.locale, rng),
                Gen::Shape { shapes } => {
                    let shape = weighted(shapes, rng).unwrap_or_else(|| "aaaaaaaa".into());
                    Value::Text(from_shape(&shape, rng))
                }
            };
            row[i] = value;
        }

        // What the parents give the row, before the rules below build on it.
        let fixed = |i: usize| {
            given.is_some_and(|g| {
                g.values.get(i).is_some_and(Option::is_some)
                    || g.times.get(i).is_some_and(Option::is_some)
            })
        };
        if let Some(given) = given {
            for i in 0..width {
                if let Some(Some(value)) = given.values.get(i) {
                    shadow[i] = match &self.gens[i] {
                        Gen::Time { .. } => text(value).and_then(temporal::parse).map(|t| t.0),
                        _ => number(value),
                    };
                    row[i] = value.clone();
                } else if let Some(Some(at)) = given.times.get(i) {
                    let anchor = anchor_value(i);
                    let (style, days) =
                        match &self.gens[i] {
                            Gen::Time { style, days, .. } => (
                                Some(anchor_view(i).map_or(style.clone(), |(_, s)| {
                                    self.styles[s as usize].clone()
                                })),
                                *days,
                            ),
                            _ => (text(&anchor).and_then(temporal::parse).map(|t| t.1), false),
                        };
                    let Some(style) = style else { continue };
                    let at = if style.date_only || days {
                        (at / temporal::DAY).ceil() * temporal::DAY
                    } else {
                        at.ceil()
                    };
                    if let Some(t) = temporal::format(at, &style) {
                        shadow[i] = Some(at);
                        row[i] = Value::Text(t);
                    }
                }
            }
        }

        // Emails need the row's names.
        for i in 0..width {
            if let Gen::Email { model, locals } = &self.gens[i] {
                let anchor = anchor_value(i);
                if matches!(anchor, Value::Null)
                    && !self.not_null[i]
                    && anchors[self.slot_of[i]].is_some()
                {
                    continue;
                }
                let domain = text(&anchor)
                    .and_then(|e| e.split_once('@').map(|(_, d)| d.to_string()))
                    .unwrap_or_else(|| "example.com".into());
                let local = match (model, names_of(&row, self.name_columns)) {
                    (Some(model), Some((first, last))) => {
                        let pattern = weighted_pattern(&model.patterns, rng);
                        let mut local = pattern.local(&first, &last);
                        if rng.random_bool(model.digit_share.clamp(0.0, 1.0)) {
                            local.push_str(&rng.random_range(1..100).to_string());
                        }
                        local
                    }
                    _ => {
                        let base = locals.choose(rng).cloned().unwrap_or_else(|| "user".into());
                        from_shape(&crate::db::formats::shape(&base), rng).to_ascii_lowercase()
                    }
                };
                row[i] = Value::Text(format!("{local}@{domain}"));
            }
        }

        // Rules found in the data.
        for (pair, step, smallest) in &self.pairs {
            let (Some(earlier), Some(_)) = (shadow[pair.earlier], shadow[pair.later]) else {
                continue;
            };
            if fixed(pair.later) {
                continue;
            }
            let anchor_gap = anchor_view(pair.earlier)
                .zip(anchor_view(pair.later))
                .map(|(a, b)| b.0 - a.0);
            let Some(gap) = anchor_gap else { continue };
            // Never closer than the closest pair seen (strict orders stay strict).
            let later = earlier + (gap + gaussian(rng, *step)).max(*smallest);
            shadow[pair.later] = Some(later);
            row[pair.later] = match &self.gens[pair.later] {
                Gen::Time { style, days, .. } => {
                    let own =
                        anchor_view(pair.later).map_or(style, |(_, s)| &self.styles[s as usize]);
                    let later = if own.date_only || *days {
                        (later / temporal::DAY).floor() * temporal::DAY
                    } else {
                        later.floor()
                    };
                    temporal::format(later, own)
                        .map(Value::Text)
                        .unwrap_or(Value::Null)
                }
                Gen::Number {
                    integer,
                    decimals,
                    real,
                    ..
                } => number_value(later, *integer, *decimals, *real),
                _ => continue,
            };
        }
        for rule in &self.arithmetic {
            if fixed(rule.result) {
                continue;
            }
            let (Some(a), Some(b)) = (number(&row[rule.left]), number(&row[rule.right])) else {
                continue;
            };
            let v = match rule.op {
                Op::Product => a * b,
                Op::Sum => a + b,
            };
            let integer = matches!(row[rule.result], Value::Integer(_)) && rule.decimals == 0;
            row[rule.result] = number_value(v, integer, rule.decimals, !integer);
        }

        // Columns a parent's value scales (a line's total: its quantity times the
        // product's price), once the row's own factor is made.
        for (c, a, parent, decimals) in given.map(|g| g.products.as_slice()).unwrap_or_default() {
            if let (Some(x), Some(p)) = (number(&row[*a]), number(parent)) {
                let v = x * p;
                row[*c] = number_value(v, *decimals == 0, *decimals, *decimals > 0);
            }
        }

        // A row identical to its anchor would be a copy: change one
        // descriptive column to another row's value.
        if let Some(anchor) = anchors[0]
            && row == *anchor
        {
            let choices: Vec<usize> = (0..width)
                .filter(|&i| matches!(self.gens[i], Gen::Anchor))
                .collect();
            if let (Some(&i), Some(other)) = (choices.choose(rng), self.anchors.choose(rng)) {
                row[i] = other[i].clone();
            }
        }
        scratch.picks = picks;
        scratch.shadow = shadow;
        self.scratch = scratch;
        row.into_iter().map(Some).collect()
    }
}
