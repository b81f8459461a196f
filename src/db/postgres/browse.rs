//! Reading a Postgres table a page at a time for the app's grid.
//!
//! A table with a primary key and no sort is paged by its key (`WHERE (key) > ($1) ORDER
//! BY key LIMIT n`, an index range whatever the page), as SQLite tables are by rowid.
//! A sorted lens, a view, or a table without a key is paged by position in a stable order
//! (the sort, then the key or every column). The search is a case-insensitive substring
//! match over every visible column's text (`ILIKE`, bound, never spliced); bytea columns
//! never match, as the grid shows them as byte counts.

use tokio_postgres::types::ToSql;

use super::Postgres;
use super::catalog::qualified;
use super::values::{as_text, from_text};
use crate::db::DbError;
use crate::db::browse::{
    Anchor, BrowseRefusal, CELL_LIMIT, Key, Lens, Page, PageRow, like_pattern,
};
use crate::db::catalog::{Affinity, Column, TableInfo};
use crate::db::ident::quote;
use crate::db::value::{Value, display};

/// A parameter list that grows as the statement is written.
#[derive(Default)]
struct Params {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Params {
    fn text(&mut self, text: String) -> String {
        self.values.push(Box::new(text));
        format!("${}", self.values.len())
    }

    fn int(&mut self, n: u64) -> String {
        self.values
            .push(Box::new(i64::try_from(n).unwrap_or(i64::MAX)));
        format!("${}::int8", self.values.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

struct Scope<'t> {
    table: &'t TableInfo,
    columns: Vec<&'t Column>,
    key: Vec<&'t Column>,
    /// `ORDER BY` of the lens (without the key tiebreak).
    sort: Option<String>,
    term: Option<String>,
}

impl<'t> Scope<'t> {
    fn new(table: &'t TableInfo, lens: &Lens) -> Result<Self, DbError> {
        let columns: Vec<&Column> = table.visible_columns().collect();
        let key = if table.kind.generatable() {
            table.primary_key()
        } else {
            Vec::new()
        };
        let sort = match &lens.sort {
            Some(sort) => {
                let column = columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(&sort.column))
                    .ok_or_else(|| BrowseRefusal::UnknownSortColumn {
                        table: table.name.clone(),
                        column: sort.column.clone(),
                    })?;
                let direction = if sort.descending { " DESC" } else { "" };
                Some(format!("r.{}{direction}", quote(&column.name)))
            }
            None => None,
        };
        Ok(Self {
            table,
            columns,
            key,
            sort,
            term: lens.search.clone().filter(|t| !t.is_empty()),
        })
    }

    /// Paged by key: a key, and no sort.
    fn keyed(&self) -> bool {
        !self.key.is_empty() && self.sort.is_none()
    }

    fn key_list(&self) -> String {
        self.key
            .iter()
            .map(|c| format!("r.{}", quote(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The full order: the sort, then the key (or every column) so ties are stable.
    fn order(&self, descending: bool) -> String {
        let tiebreak = if self.key.is_empty() {
            self.columns
                .iter()
                .map(|c| format!("r.{}::text", quote(&c.name)))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            self.key_list()
        };
        let base = match &self.sort {
            Some(sort) => format!("{sort}, {tiebreak}"),
            None => tiebreak,
        };
        if !descending {
            return format!(" ORDER BY {base}");
        }
        let flipped: Vec<String> = base
            .split(", ")
            .map(|term| match term.strip_suffix(" DESC") {
                Some(t) => t.to_string(),
                None => format!("{term} DESC"),
            })
            .collect();
        format!(" ORDER BY {}", flipped.join(", "))
    }

    fn select(&self) -> String {
        self.key
            .iter()
            .chain(&self.columns)
            .map(|c| format!("r.{}", as_text(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn search(&self, params: &mut Params) -> Option<String> {
        let term = self.term.as_ref()?;
        let tests: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.affinity != Affinity::Blob)
            .map(|c| {
                format!(
                    "r.{}::text ILIKE {}",
                    quote(&c.name),
                    params.text(like_pattern(term))
                )
            })
            .collect();
        Some(if tests.is_empty() {
            "false".into()
        } else {
            format!("({})", tests.join(" OR "))
        })
    }

    /// `(key) <op> (values)` for a keyed anchor.
    fn compare(&self, op: &str, values: &[Value], params: &mut Params) -> String {
        let bound: Vec<String> = self
            .key
            .iter()
            .zip(values)
            .map(|(c, v)| format!("{}::text::{}", params.text(display(v)), c.decl_type))
            .collect();
        format!("({}) {op} ({})", self.key_list(), bound.join(", "))
    }

    fn where_clause(&self, extra: Option<String>, params: &mut Params) -> String {
        let parts: Vec<String> = self.search(params).into_iter().chain(extra).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        }
    }

    fn row(&self, r: &tokio_postgres::Row, position: Option<u64>) -> PageRow {
        let width = self.key.len();
        let key_values: Vec<Value> = self
            .key
            .iter()
            .enumerate()
            .map(|(i, c)| from_text(Some(c), r.get(i)))
            .collect();
        let mut cut = Vec::new();
        let values: Vec<Value> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let value = from_text(Some(c), r.get(width + i));
                match value {
                    Value::Text(t) if t.len() > CELL_LIMIT => {
                        cut.push((i, t.len()));
                        let mut end = CELL_LIMIT;
                        while !t.is_char_boundary(end) {
                            end -= 1;
                        }
                        Value::Text(t[..end].to_string())
                    }
                    other => other,
                }
            })
            .collect();
        let key = match position {
            Some(p) => Key::Offset(p),
            None => Key::Primary(key_values),
        };
        PageRow { key, values, cut }
    }

    fn count(&self, db: &Postgres) -> Result<u64, DbError> {
        let mut params = Params::default();
        let sql = format!(
            "SELECT count(*) FROM {} AS r{}",
            qualified(self.table),
            self.where_clause(None, &mut params)
        );
        Ok(db.rows(&sql, &params.refs())?[0].get::<_, i64>(0).max(0) as u64)
    }
}

pub fn read_page(
    db: &Postgres,
    table: &TableInfo,
    lens: &Lens,
    anchor: &Anchor,
    limit: usize,
) -> Result<Page, DbError> {
    let scope = Scope::new(table, lens)?;
    let limit = limit.max(1);
    let columns: Vec<String> = scope.columns.iter().map(|c| c.name.clone()).collect();
    let matches = match (&scope.term, anchor) {
        (Some(_), Anchor::Start | Anchor::End | Anchor::Position(_) | Anchor::At(_)) => {
            Some(scope.count(db)?)
        }
        _ => None,
    };
    let mut page = if scope.keyed() && !matches!(anchor, Anchor::Position(_)) {
        keyed_page(db, &scope, anchor, limit)?
    } else {
        positional_page(db, &scope, anchor, limit, matches)?
    };
    page.columns = columns;
    page.matches = matches.or(page.matches);
    Ok(page)
}

fn keyed_page(
    db: &Postgres,
    scope: &Scope,
    anchor: &Anchor,
    limit: usize,
) -> Result<Page, DbError> {
    let key_of = |key: &Key| -> Result<Vec<Value>, DbError> {
        match key {
            Key::Primary(values) if values.len() == scope.key.len() => Ok(values.clone()),
            _ => Err(BrowseRefusal::OtherOrder.into()),
        }
    };
    let mut params = Params::default();
    let (condition, descending) = match anchor {
        Anchor::Start | Anchor::Position(_) => (None, false),
        Anchor::End => (None, true),
        Anchor::After(k) => (Some(scope.compare(">", &key_of(k)?, &mut params)), false),
        Anchor::Before(k) => (Some(scope.compare("<", &key_of(k)?, &mut params)), true),
        Anchor::At(k) => (Some(scope.compare(">=", &key_of(k)?, &mut params)), false),
    };
    let sql = format!(
        "SELECT {} FROM {} AS r{}{} LIMIT {}",
        scope.select(),
        qualified(scope.table),
        scope.where_clause(condition, &mut params),
        scope.order(descending),
        limit + 1
    );
    let rows = db.rows(&sql, &params.refs())?;
    let more = rows.len() > limit;
    let mut read: Vec<PageRow> = rows
        .iter()
        .take(limit)
        .map(|r| scope.row(r, None))
        .collect();
    if descending {
        read.reverse();
    }
    let (at_start, at_end) = match anchor {
        Anchor::Start => (true, !more),
        Anchor::End => (!more, true),
        Anchor::After(_) => (false, !more),
        Anchor::Before(_) => (!more, false),
        Anchor::At(_) => {
            // Whether any row comes before the first one read.
            let before = match read.first().map(|r| &r.key) {
                Some(Key::Primary(values)) => {
                    let mut p = Params::default();
                    let cond = scope.compare("<", values, &mut p);
                    let sql = format!(
                        "SELECT EXISTS (SELECT 1 FROM {} AS r{})",
                        qualified(scope.table),
                        scope.where_clause(Some(cond), &mut p)
                    );
                    db.rows(&sql, &p.refs())?[0].get::<_, bool>(0)
                }
                _ => false,
            };
            (!before, !more)
        }
        Anchor::Position(_) => (true, !more),
    };
    Ok(Page {
        columns: Vec::new(),
        position: matches!(anchor, Anchor::Start).then_some(0),
        rows: read,
        at_start,
        at_end,
        matches: None,
    })
}

fn positional_page(
    db: &Postgres,
    scope: &Scope,
    anchor: &Anchor,
    limit: usize,
    counted: Option<u64>,
) -> Result<Page, DbError> {
    let total = match (counted, anchor) {
        (Some(n), _) => Some(n),
        (None, Anchor::End | Anchor::Position(_)) => Some(scope.count(db)?),
        _ => None,
    };
    let offset_of = |key: &Key| -> Result<u64, DbError> {
        match key {
            Key::Offset(n) => Ok(*n),
            _ => Err(BrowseRefusal::OtherOrder.into()),
        }
    };
    let start = match anchor {
        Anchor::Start => 0,
        Anchor::End => total.unwrap_or(0).saturating_sub(limit as u64),
        Anchor::After(k) => offset_of(k)? + 1,
        Anchor::Before(k) => offset_of(k)?.saturating_sub(limit as u64),
        Anchor::At(k) => offset_of(k)?,
        Anchor::Position(p) => (*p).min(total.unwrap_or(u64::MAX).saturating_sub(limit as u64)),
    };
    let end = match anchor {
        Anchor::Before(k) => offset_of(k)?,
        _ => start + limit as u64,
    };
    let take = end.saturating_sub(start) as usize;
    let mut params = Params::default();
    let filter = scope.where_clause(None, &mut params);
    let sql = format!(
        "SELECT {} FROM {} AS r{filter}{} LIMIT {} OFFSET {}",
        scope.select(),
        qualified(scope.table),
        scope.order(false),
        params.int(take as u64 + 1),
        params.int(start)
    );
    let rows = db.rows(&sql, &params.refs())?;
    let more = rows.len() > take;
    let read: Vec<PageRow> = rows
        .iter()
        .take(take)
        .enumerate()
        .map(|(i, r)| scope.row(r, Some(start + i as u64)))
        .collect();
    Ok(Page {
        columns: Vec::new(),
        at_start: start == 0,
        at_end: !more,
        position: Some(start),
        rows: read,
        matches: None,
    })
}

pub fn read_cell(
    db: &Postgres,
    table: &TableInfo,
    lens: &Lens,
    key: &Key,
    column: &str,
) -> Result<Value, DbError> {
    let scope = Scope::new(table, lens)?;
    let target = scope
        .columns
        .iter()
        .find(|c| c.name == column)
        .copied()
        .ok_or_else(|| DbError::UnknownColumn {
            table: table.name.clone(),
            column: column.to_string(),
        })?;
    let mut params = Params::default();
    let sql = match key {
        Key::Primary(values) if !scope.key.is_empty() => {
            let cond = scope.compare("=", values, &mut params);
            format!(
                "SELECT r.{} FROM {} AS r WHERE {cond}",
                as_text(&target.name),
                qualified(table)
            )
        }
        Key::Offset(n) => {
            let filter = scope.where_clause(None, &mut params);
            format!(
                "SELECT r.{} FROM {} AS r{filter}{} LIMIT 1 OFFSET {}",
                as_text(&target.name),
                qualified(table),
                scope.order(false),
                params.int(*n)
            )
        }
        _ => return Err(BrowseRefusal::RowLost.into()),
    };
    let rows = db.rows(&sql, &params.refs())?;
    let row = rows.first().ok_or(BrowseRefusal::RowGone)?;
    Ok(from_text(Some(target), row.get(0)))
}
