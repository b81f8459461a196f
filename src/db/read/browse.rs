//! Reading a table a page at a time, for the row browser.
//!
//! Rowid tables are paged by rowid (`WHERE rowid > ? ORDER BY rowid LIMIT ?`
//! and backwards), WITHOUT ROWID tables by their primary key as a row value,
//! and views and virtual tables by LIMIT/OFFSET. Each page is an index seek,
//! so reading near the end of a 5,000,000-row table costs what reading near
//! its start does, and nothing but the page is ever held in memory.
//!
//! A [`Lens`] narrows and orders what is read:
//!
//! - A search alone keeps the table's own order, so it is paged by key as
//!   above with the search added to each `WHERE`; rows keep their real keys.
//! - A sort orders rows by something no index is assumed to follow, so a
//!   sorted lens is paged by position (`ORDER BY col, <table order> LIMIT ?
//!   OFFSET ?`), as views are, and its rows are keyed [`Key::Offset`]: their
//!   position in the lens's order. [`read_cell`] reads such a row again by
//!   position under the same lens. Each page is one sort on the worker
//!   thread; keyset paging on (value, rowid) would save it, at the price of
//!   getting NULLs, collations and mixed types right in hand-written
//!   comparisons, and views would still need positions.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::db::catalog::{ObjectKind, TableInfo};
use crate::db::ident::{quote, quote_list};
use crate::db::sample::rowid_name;
use crate::db::{DbError, Sqlite};

/// Text and blobs longer than this many bytes are cut in pages; the whole
/// value is read on demand with [`read_cell`].
pub const CELL_LIMIT: usize = 4096;

/// Where a row sits in its table's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Rowid(i64),
    /// Primary-key values of a WITHOUT ROWID table, in key order.
    Primary(Vec<Value>),
    /// Position in the lens's order: for views, virtual tables and sorted lenses.
    Offset(u64),
}

/// Which rows a page holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    /// The first rows.
    Start,
    /// The last rows.
    End,
    /// Rows after this key.
    After(Key),
    /// Rows before this key (returned in table order).
    Before(Key),
    /// Rows from this key on, itself included.
    At(Key),
    /// Rows from this 0-based position in the lens's order on; past the end,
    /// the last rows (as [`Anchor::End`]).
    Position(u64),
}

/// Which rows a browser shows, and in which order.
///
/// The search is a case-insensitive substring match (SQLite's `LIKE`, which
/// folds ASCII letters only) over every visible column. NULLs never match,
/// numbers match their text, and blobs never match: the grid shows a blob as
/// a byte count, so a match inside one would show a row with nothing matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lens {
    pub search: Option<String>,
    pub sort: Option<Sort>,
}

/// A column to order rows by; ties keep the table's own order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

impl Lens {
    /// No search (or an empty one) and no sort: the table as it is.
    pub fn is_plain(&self) -> bool {
        self.term().is_none() && self.sort.is_none()
    }

    fn term(&self) -> Option<&str> {
        self.search.as_deref().filter(|t| !t.is_empty())
    }
}

/// One row of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRow {
    pub key: Key,
    pub values: Vec<Value>,
    /// Values cut at [`CELL_LIMIT`]: (column index, full length in bytes).
    pub cut: Vec<(usize, usize)>,
}

impl PageRow {
    /// The full length of a value that was cut, if it was.
    pub fn cut_len(&self, column: usize) -> Option<usize> {
        self.cut.iter().find(|(c, _)| *c == column).map(|(_, n)| *n)
    }
}

/// Consecutive rows in the lens's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub columns: Vec<String>,
    pub rows: Vec<PageRow>,
    /// No rows come before the first one.
    pub at_start: bool,
    /// No rows come after the last one.
    pub at_end: bool,
    /// 0-based position of the first row in the lens's order, when the read knows it
    /// (Start: 0, Position(n): the position reached, offset paging: always; End with a total: total - len).
    pub position: Option<u64>,
    /// How many rows the lens shows, when this read counted them (a search's Replace-type
    /// reads: Start, End, Position, At). None when not counted.
    pub matches: Option<u64>,
}

/// The key a table's rows are sought by: the rowid, or the primary key of a
/// WITHOUT ROWID table.
struct KeyOrder {
    /// The key's columns as SQL, in key order (a rowid alias is left bare).
    cols: Vec<String>,
    rowid: bool,
}

impl KeyOrder {
    fn of(table: &TableInfo) -> Option<Self> {
        if table.has_rowid()
            && let Some(name) = rowid_name(table)
        {
            return Some(Self {
                cols: vec![name.to_string()],
                rowid: true,
            });
        }
        let pk = table.primary_key();
        (table.kind == ObjectKind::Table && !pk.is_empty()).then(|| Self {
            cols: pk.iter().map(|c| quote(&c.name)).collect(),
            rowid: false,
        })
    }

    /// `rowid` or `"a", "b"`: to select and to order by.
    fn list(&self) -> String {
        self.cols.join(", ")
    }

    fn descending(&self) -> String {
        self.cols
            .iter()
            .map(|c| format!("{c} DESC"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `rowid <op> ?` or `("a", "b") <op> (?, ?)`.
    fn compare(&self, op: &str) -> String {
        if self.rowid {
            format!("{} {op} ?", self.cols[0])
        } else {
            let marks = vec!["?"; self.cols.len()].join(", ");
            format!("({}) {op} ({marks})", self.list())
        }
    }

    /// The parameters of [`KeyOrder::compare`]; None for a key of another kind.
    fn bind(&self, key: &Key) -> Option<Vec<Value>> {
        match key {
            Key::Rowid(id) if self.rowid => Some(vec![Value::Integer(*id)]),
            Key::Primary(values) if !self.rowid && values.len() == self.cols.len() => {
                Some(values.clone())
            }
            _ => None,
        }
    }

    /// Takes the key off the front of a row selected as `SELECT <list>, ...`.
    fn take(&self, values: &mut Vec<Value>) -> Key {
        let lead: Vec<Value> = values.drain(..self.cols.len().min(values.len())).collect();
        if self.rowid {
            Key::Rowid(match lead.first() {
                Some(Value::Integer(i)) => *i,
                _ => 0,
            })
        } else {
            Key::Primary(lead)
        }
    }
}

/// A table seen through a lens, as the pieces of its statements.
struct Scope {
    from: String,
    columns: Vec<String>,
    select: String,
    /// The search as `(... LIKE ? ...)` and its parameters, one per `?`.
    search: Option<(String, Vec<Value>)>,
    /// `"col"` or `"col" DESC`.
    sort: Option<String>,
    key: Option<KeyOrder>,
}

impl Scope {
    fn new(table: &TableInfo, lens: &Lens) -> Result<Self, DbError> {
        let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
        let select = if columns.is_empty() {
            "*".to_string()
        } else {
            quote_list(columns.iter().map(String::as_str))
        };
        let sort = lens
            .sort
            .as_ref()
            .map(|s| sort_term(table, s))
            .transpose()?;
        Ok(Self {
            from: format!("main.{}", quote(&table.name)),
            search: lens.term().map(|t| search_filter(&columns, t)),
            select,
            columns,
            sort,
            key: KeyOrder::of(table),
        })
    }

    /// The key to page by, when rows come in key order (no sort).
    fn keyed(&self) -> Option<&KeyOrder> {
        self.key.as_ref().filter(|_| self.sort.is_none())
    }

    /// ` ORDER BY <sort>, <key>`, either part when there is one.
    fn order_by(&self) -> String {
        let terms: Vec<String> = self
            .sort
            .iter()
            .cloned()
            .chain(self.key.as_ref().map(KeyOrder::list))
            .collect();
        if terms.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", terms.join(", "))
        }
    }

    /// `WHERE <cond> AND <search>`, either part when there is one.
    fn where_clause(&self, cond: Option<&str>) -> String {
        let parts: Vec<&str> = cond
            .into_iter()
            .chain(self.search.as_ref().map(|(sql, _)| sql.as_str()))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        }
    }

    /// Parameters in statement order: the condition's, the search's, then `tail`.
    fn params(&self, cond: Vec<Value>, tail: &[u64]) -> Vec<Value> {
        let mut out = cond;
        if let Some((_, search)) = &self.search {
            out.extend(search.iter().cloned());
        }
        out.extend(tail.iter().map(|&n| int(n)));
        out
    }

    /// Rows the lens shows that meet `cond` (bound to `params`).
    fn count(
        &self,
        conn: &Connection,
        cond: Option<&str>,
        params: Vec<Value>,
    ) -> rusqlite::Result<u64> {
        let sql = format!(
            "SELECT count(*) FROM {}{}",
            self.from,
            self.where_clause(cond)
        );
        let n: i64 = conn.query_row(&sql, params_from_iter(self.params(params, &[])), |r| {
            r.get(0)
        })?;
        Ok(n.max(0) as u64)
    }

    /// Refuses a key that cannot be placed in this scope's paging.
    fn check(&self, anchor: &Anchor) -> Result<(), DbError> {
        let fits = match (anchor_key(anchor), self.keyed()) {
            (None, _) => true,
            (Some(key), Some(order)) => order.bind(key).is_some(),
            (Some(key), None) => matches!(key, Key::Offset(_)),
        };
        if fits {
            Ok(())
        } else {
            Err(BrowseRefusal::OtherOrder.into())
        }
    }
}

/// Why rows could not be read for the grid. Each is about what the grid holds (its
/// sort, a row it shows), so reading the table again (or choosing another sort) goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrowseRefusal {
    /// The sort names a column the table does not show.
    #[error("'{table}' has no column '{column}' to sort by.")]
    UnknownSortColumn { table: String, column: String },

    /// A row key from one order of the table was used to page another.
    #[error(
        "That row was read in another order of the table; read the table again from its start."
    )]
    OtherOrder,

    /// The key of a row shown cannot address it in the current order.
    #[error("That row can no longer be found; reload the table.")]
    RowLost,

    /// The row shown is no longer in the table.
    #[error("That row is gone: it was deleted or changed since it was shown.")]
    RowGone,
}

/// The validated ORDER BY term of a sort.
fn sort_term(table: &TableInfo, sort: &Sort) -> Result<String, DbError> {
    let column = table
        .visible_columns()
        .find(|c| c.name.eq_ignore_ascii_case(&sort.column))
        .ok_or_else(|| BrowseRefusal::UnknownSortColumn {
            table: table.name.clone(),
            column: sort.column.clone(),
        })?;
    let direction = if sort.descending { " DESC" } else { "" };
    Ok(format!("{}{direction}", quote(&column.name)))
}

/// Any visible column holds `term`; the term is only ever bound, never spliced.
fn search_filter(columns: &[String], term: &str) -> (String, Vec<Value>) {
    if columns.is_empty() {
        return ("0".into(), Vec::new());
    }
    let tests: Vec<String> = columns
        .iter()
        .map(|c| {
            let c = quote(c);
            format!("({c} LIKE ? ESCAPE '\\' AND typeof({c}) <> 'blob')")
        })
        .collect();
    let pattern = Value::Text(like_pattern(term));
    (
        format!("({})", tests.join(" OR ")),
        vec![pattern; columns.len()],
    )
}

/// `%term%`, with the term's own `%`, `_` and `\` taken literally (`ESCAPE '\'`).
pub(crate) fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A count or position as a parameter (past `i64::MAX` it is `i64::MAX`, not negative).
fn int(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn anchor_key(anchor: &Anchor) -> Option<&Key> {
    match anchor {
        Anchor::After(k) | Anchor::Before(k) | Anchor::At(k) => Some(k),
        _ => None,
    }
}

/// Reads that replace what a browser shows, rather than extend it.
fn replaces(anchor: &Anchor) -> bool {
    matches!(
        anchor,
        Anchor::Start | Anchor::End | Anchor::Position(_) | Anchor::At(_)
    )
}

/// Reads up to `limit` rows of `table`, seen through `lens`, at `anchor`.
pub fn read_page(
    db: &Sqlite,
    table: &TableInfo,
    lens: &Lens,
    anchor: &Anchor,
    limit: usize,
) -> Result<Page, DbError> {
    let scope = Scope::new(table, lens)?;
    scope.check(anchor)?;
    let conn = db.conn();
    let limit = limit.max(1);
    match scope.keyed() {
        Some(key) => keyed_page(conn, &scope, key, anchor, limit),
        None => positional_page(conn, &scope, anchor, limit),
    }
    .map_err(|e| db.err(e))
}

/// A keyed page, with what the read knows of its position and of the matches.
fn keyed_page(
    conn: &Connection,
    scope: &Scope,
    key: &KeyOrder,
    anchor: &Anchor,
    limit: usize,
) -> rusqlite::Result<Page> {
    let searched = scope.search.is_some();
    let mut matches = if searched && replaces(anchor) {
        Some(scope.count(conn, None, Vec::new())?)
    } else {
        None
    };
    // A position is read as the key found there, or as the end past the end.
    let (read, reached) = match anchor {
        Anchor::Position(n) => match key_at(conn, scope, key, *n)? {
            Some(found) => (Anchor::At(found), Some(*n)),
            None => (Anchor::End, None),
        },
        other => (other.clone(), None),
    };
    let mut page = keyed(conn, scope, key, &read, limit)?;
    let len = page.rows.len() as u64;
    if matches!(anchor, Anchor::Position(_)) && reached.is_none() && matches.is_none() {
        // Past the end: the count places the last page.
        matches = Some(scope.count(conn, None, Vec::new())?);
    }
    page.position = match (&read, reached) {
        (_, Some(n)) => Some(n),
        (Anchor::Start, _) => Some(0),
        (Anchor::End, _) => matches.map(|m| m.saturating_sub(len)),
        (Anchor::At(k), _) if searched => {
            let before = key.bind(k).unwrap_or_default();
            Some(scope.count(conn, Some(&key.compare("<")), before)?)
        }
        _ => None,
    };
    page.matches = matches;
    Ok(page)
}

/// The key of the row at position `n` in key order. Unsearched, this walks
/// the key's b-tree only, not the rows.
fn key_at(
    conn: &Connection,
    scope: &Scope,
    key: &KeyOrder,
    n: u64,
) -> rusqlite::Result<Option<Key>> {
    let list = key.list();
    let sql = format!(
        "SELECT {list} FROM {}{} ORDER BY {list} LIMIT 1 OFFSET ?",
        scope.from,
        scope.where_clause(None)
    );
    conn.query_row(
        &sql,
        params_from_iter(scope.params(Vec::new(), &[n])),
        |row| {
            let mut values = (0..key.cols.len())
                .map(|i| crate::db::value::value_at(row, i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(key.take(&mut values))
        },
    )
    .optional()
}

/// Up to `limit` rows in key order at `anchor` (a position is read as the start).
fn keyed(
    conn: &Connection,
    scope: &Scope,
    key: &KeyOrder,
    anchor: &Anchor,
    limit: usize,
) -> rusqlite::Result<Page> {
    let (op, descending) = match anchor {
        Anchor::Start | Anchor::Position(_) => (None, false),
        Anchor::End => (None, true),
        Anchor::After(_) => (Some(">"), false),
        Anchor::At(_) => (Some(">="), false),
        Anchor::Before(_) => (Some("<"), true),
    };
    let cond = op.map(|op| key.compare(op));
    let bound = anchor_key(anchor)
        .and_then(|k| key.bind(k))
        .unwrap_or_default();
    let order = if descending {
        key.descending()
    } else {
        key.list()
    };
    let sql = format!(
        "SELECT {}, {} FROM {}{} ORDER BY {order} LIMIT ?",
        key.list(),
        scope.select,
        scope.from,
        scope.where_clause(cond.as_deref())
    );
    // One row more than asked tells whether the table goes on.
    let params = scope.params(bound.clone(), &[limit as u64 + 1]);
    let mut rows = fetch(conn, &sql, &params, |values| key.take(values))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if descending {
        rows.reverse();
    }
    let (at_start, at_end) = match anchor {
        Anchor::Start | Anchor::Position(_) => (true, !more),
        Anchor::End => (!more, true),
        Anchor::After(_) => (false, !more),
        Anchor::Before(_) => (!more, false),
        Anchor::At(_) => (!exists(conn, scope, &key.compare("<"), bound)?, !more),
    };
    Ok(Page {
        columns: scope.columns.clone(),
        rows,
        at_start,
        at_end,
        position: None,
        matches: None,
    })
}

/// Whether the lens shows any row meeting `cond`.
fn exists(
    conn: &Connection,
    scope: &Scope,
    cond: &str,
    params: Vec<Value>,
) -> rusqlite::Result<bool> {
    let sql = format!(
        "SELECT EXISTS(SELECT 1 FROM {}{})",
        scope.from,
        scope.where_clause(Some(cond))
    );
    conn.query_row(&sql, params_from_iter(scope.params(params, &[])), |r| {
        r.get(0)
    })
}

/// A page by LIMIT/OFFSET in the lens's order: views, and sorted lenses.
fn positional_page(
    conn: &Connection,
    scope: &Scope,
    anchor: &Anchor,
    limit: usize,
) -> rusqlite::Result<Page> {
    let limit = limit as u64;
    // End and Position need the total to find the last page.
    let counted = matches!(anchor, Anchor::End | Anchor::Position(_))
        || (scope.search.is_some() && replaces(anchor));
    let total = if counted {
        Some(scope.count(conn, None, Vec::new())?)
    } else {
        None
    };
    let last = total.unwrap_or(0).saturating_sub(limit);
    let offset_of = |k: &Key| match k {
        Key::Offset(n) => *n,
        _ => 0,
    };
    let (start, take) = match anchor {
        Anchor::Start => (0, limit),
        Anchor::End => (last, limit),
        Anchor::Position(n) if total.is_some_and(|t| *n >= t) => (last, limit),
        Anchor::Position(n) => (*n, limit),
        Anchor::After(k) => (offset_of(k).saturating_add(1), limit),
        Anchor::At(k) => (offset_of(k), limit),
        Anchor::Before(k) => (offset_of(k).saturating_sub(limit), offset_of(k).min(limit)),
    };
    let sql = format!(
        "SELECT {} FROM {}{}{} LIMIT ? OFFSET ?",
        scope.select,
        scope.from,
        scope.where_clause(None),
        scope.order_by()
    );
    let mut next = start;
    let params = scope.params(Vec::new(), &[take + 1, start]);
    let mut rows = fetch(conn, &sql, &params, |_| {
        next += 1;
        Key::Offset(next - 1)
    })?;
    let more = rows.len() as u64 > take;
    rows.truncate(take as usize);
    let at_end = match anchor {
        Anchor::End => true,
        Anchor::Before(_) => false,
        _ => !more,
    };
    Ok(Page {
        columns: scope.columns.clone(),
        rows,
        at_start: start == 0,
        at_end,
        position: Some(start),
        matches: total,
    })
}

fn fetch(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    mut make_key: impl FnMut(&mut Vec<Value>) -> Key,
) -> rusqlite::Result<Vec<PageRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(crate::db::value::value_at(row, i)?);
        }
        let key = make_key(&mut values);
        out.push(bounded(key, values));
    }
    Ok(out)
}

/// Cuts long values so a page stays small whatever the table holds.
fn bounded(key: Key, mut values: Vec<Value>) -> PageRow {
    let mut cut = Vec::new();
    for (i, v) in values.iter_mut().enumerate() {
        match v {
            Value::Text(s) if s.len() > CELL_LIMIT => {
                cut.push((i, s.len()));
                let mut end = CELL_LIMIT;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.truncate(end);
            }
            Value::Blob(b) if b.len() > CELL_LIMIT => {
                cut.push((i, b.len()));
                b.truncate(CELL_LIMIT);
            }
            _ => {}
        }
    }
    PageRow { key, values, cut }
}

/// Reads one whole value (after a page cut it at [`CELL_LIMIT`]). A rowid or
/// primary key names its row whatever the lens; a [`Key::Offset`] is a
/// position, read again in `lens`'s order, so pass the lens the page was read with.
pub fn read_cell(
    db: &Sqlite,
    table: &TableInfo,
    lens: &Lens,
    key: &Key,
    column: &str,
) -> Result<Value, DbError> {
    let scope = Scope::new(table, lens)?;
    let col = quote(column);
    let by_key = scope
        .key
        .as_ref()
        .and_then(|order| Some((order.compare("="), order.bind(key)?)));
    let (sql, params) = match (key, by_key) {
        (Key::Offset(n), _) => (
            format!(
                "SELECT {col} FROM {}{}{} LIMIT 1 OFFSET ?",
                scope.from,
                scope.where_clause(None),
                scope.order_by()
            ),
            scope.params(Vec::new(), &[*n]),
        ),
        (_, Some((cond, bound))) => (
            format!("SELECT {col} FROM {} WHERE {cond}", scope.from),
            bound,
        ),
        (_, None) => {
            return Err(BrowseRefusal::RowLost.into());
        }
    };
    db.conn()
        .query_row(&sql, params_from_iter(params.iter()), |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => BrowseRefusal::RowGone.into(),
            other => db.err(other),
        })
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use crate::db::OpenOptions;
    use crate::db::catalog::table_info;

    const PLAIN: &Lens = &Lens {
        search: None,
        sort: None,
    };

    fn db(sql: &str) -> (tempfile::TempDir, Sqlite) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let db = Sqlite::open(&path, &OpenOptions::read_only()).unwrap();
        (dir, db)
    }

    fn ids(page: &Page) -> Vec<i64> {
        page.rows
            .iter()
            .map(|r| match &r.values[0] {
                Value::Integer(i) => *i,
                _ => -1,
            })
            .collect()
    }

    const ROWID: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
        INSERT INTO t SELECT i * 2, 'v' || i FROM n;";

    #[test]
    fn rowid_pages_forward_backward_and_ends() -> TestResult {
        let (_d, db) = db(ROWID);
        let t = table_info(&db, "t")?;
        let first = read_page(&db, &t, PLAIN, &Anchor::Start, 10)?;
        assert_eq!(ids(&first), (1..=10).map(|i| i * 2).collect::<Vec<_>>());
        assert!(first.at_start && !first.at_end);
        let next = read_page(&db, &t, PLAIN, &Anchor::After(Key::Rowid(20)), 10)?;
        assert_eq!(ids(&next)[0], 22);
        let last = read_page(&db, &t, PLAIN, &Anchor::End, 10)?;
        assert_eq!(ids(&last), (16..=25).map(|i| i * 2).collect::<Vec<_>>());
        assert!(last.at_end && !last.at_start);
        let back = read_page(&db, &t, PLAIN, &Anchor::Before(Key::Rowid(8)), 10)?;
        assert_eq!(ids(&back), vec![2, 4, 6]);
        assert!(back.at_start);
        let at = read_page(&db, &t, PLAIN, &Anchor::At(Key::Rowid(2)), 5)?;
        assert_eq!(ids(&at)[0], 2);
        assert!(at.at_start);
        let tail = read_page(&db, &t, PLAIN, &Anchor::After(Key::Rowid(46)), 10)?;
        assert_eq!(ids(&tail), vec![48, 50]);
        assert!(tail.at_end);
        Ok(())
    }

    #[test]
    fn without_rowid_pages_by_primary_key() -> TestResult {
        let (_d, db) = db(
            "CREATE TABLE w (a TEXT, b INTEGER, c TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
             INSERT INTO w VALUES ('x', 2, '1'), ('x', 1, '2'), ('y', 0, '3'), ('a', 9, '4');",
        );
        let t = table_info(&db, "w")?;
        let first = read_page(&db, &t, PLAIN, &Anchor::Start, 2)?;
        let keys: Vec<Key> = first.rows.iter().map(|r| r.key.clone()).collect();
        assert_eq!(
            keys,
            vec![
                Key::Primary(vec![Value::Text("a".into()), Value::Integer(9)]),
                Key::Primary(vec![Value::Text("x".into()), Value::Integer(1)]),
            ]
        );
        let next = read_page(&db, &t, PLAIN, &Anchor::After(keys[1].clone()), 5)?;
        assert_eq!(next.rows.len(), 2);
        assert!(next.at_end);
        assert_eq!(next.rows[1].values[2], Value::Text("3".into()));
        let back = read_page(&db, &t, PLAIN, &Anchor::Before(keys[1].clone()), 5)?;
        assert_eq!(back.rows.len(), 1);
        let cell = read_cell(&db, &t, PLAIN, &keys[1], "c")?;
        assert_eq!(cell, Value::Text("2".into()));
        Ok(())
    }

    #[test]
    fn views_page_by_offset_and_long_values_are_cut() -> TestResult {
        let (_d, db) = db(&format!(
            "{ROWID} CREATE VIEW v AS SELECT id, v FROM t; UPDATE t SET v = printf('%.5000c', 'x') WHERE id = 2;"
        ));
        let t = table_info(&db, "v")?;
        let first = read_page(&db, &t, PLAIN, &Anchor::Start, 10)?;
        assert_eq!(first.rows.len(), 10);
        assert_eq!(first.rows[0].cut_len(1), Some(5000));
        let end = read_page(&db, &t, PLAIN, &Anchor::End, 10)?;
        assert_eq!(end.rows[0].key, Key::Offset(15));
        assert!(end.at_end);
        let before = read_page(&db, &t, PLAIN, &Anchor::Before(Key::Offset(3)), 10)?;
        assert_eq!(before.rows.len(), 3);
        assert!(before.at_start);
        let full = read_cell(&db, &t, PLAIN, &Key::Offset(0), "v")?;
        assert!(matches!(full, Value::Text(s) if s.len() == 5000));
        Ok(())
    }

    fn searched(term: &str) -> Lens {
        Lens {
            search: Some(term.into()),
            sort: None,
        }
    }

    fn sorted(column: &str, descending: bool) -> Lens {
        Lens {
            search: None,
            sort: Some(Sort {
                column: column.into(),
                descending,
            }),
        }
    }

    /// The first column (an integer id) of each row, straight from SQLite.
    fn direct(db: &Sqlite, sql: &str) -> Vec<i64> {
        let mut stmt = db.conn().prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn row_ids(rows: &[PageRow]) -> Vec<i64> {
        rows.iter()
            .map(|r| match &r.values[0] {
                Value::Integer(i) => *i,
                _ => -1,
            })
            .collect()
    }

    /// Every row the lens shows, read page by page from the start (After).
    fn walk_forward(db: &Sqlite, t: &TableInfo, lens: &Lens, limit: usize) -> Vec<PageRow> {
        let mut page = read_page(db, t, lens, &Anchor::Start, limit).unwrap();
        let mut all = Vec::new();
        for _ in 0..1000 {
            let next = page.rows.last().map(|r| Anchor::After(r.key.clone()));
            let done = page.at_end;
            all.extend(page.rows);
            match next {
                Some(anchor) if !done => page = read_page(db, t, lens, &anchor, limit).unwrap(),
                _ => return all,
            }
        }
        panic!("the walk forward never reached the end");
    }

    /// Every row the lens shows, read page by page from the end (Before).
    fn walk_backward(db: &Sqlite, t: &TableInfo, lens: &Lens, limit: usize) -> Vec<PageRow> {
        let mut page = read_page(db, t, lens, &Anchor::End, limit).unwrap();
        let mut all = Vec::new();
        for _ in 0..1000 {
            let next = page.rows.first().map(|r| Anchor::Before(r.key.clone()));
            let done = page.at_start;
            all.splice(0..0, page.rows);
            match next {
                Some(anchor) if !done => page = read_page(db, t, lens, &anchor, limit).unwrap(),
                _ => return all,
            }
        }
        panic!("the walk backward never reached the start");
    }

    const PEOPLE: &str = r"CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, note TEXT, n INTEGER, b BLOB);
        INSERT INTO p VALUES
            (1, 'Alice', 'likes 100% cotton', 7, NULL),
            (3, 'bob', 'snake_case', 420, NULL),
            (4, 'ALICIA', NULL, NULL, NULL),
            (7, 'carol', 'it''s fine', 1, NULL),
            (9, 'dave', '100 percent; one cat', 2, NULL),
            (12, NULL, 'C:\temp', NULL, X'616C696365'),
            (15, 'erin', 'C:xtemp', 42, NULL);";

    #[test]
    fn search_matches_any_column_case_insensitively_and_literally() -> TestResult {
        let (_d, db) = db(PEOPLE);
        let t = table_info(&db, "p")?;
        let find = |term: &str| -> Result<(Vec<i64>, Option<u64>), DbError> {
            let page = read_page(&db, &t, &searched(term), &Anchor::Start, 50)?;
            Ok((row_ids(&page.rows), page.matches))
        };
        // The blob of row 12 holds "alice" but blobs never match.
        assert_eq!(find("aLi")?, (vec![1, 4], Some(2)));
        assert_eq!(find("100%")?, (vec![1], Some(1)));
        assert_eq!(find("%")?, (vec![1], Some(1)));
        assert_eq!(find("e_c")?, (vec![3], Some(1)));
        assert_eq!(find("it's")?, (vec![7], Some(1)));
        assert_eq!(find("'")?, (vec![7], Some(1)));
        assert_eq!(find(r"C:\t")?, (vec![12], Some(1)));
        assert_eq!(find("42")?, (vec![3, 15], Some(2)));
        assert_eq!(find("zzz")?, (vec![], Some(0)));
        let none = read_page(&db, &t, &searched("zzz"), &Anchor::End, 5)?;
        assert!(none.at_start && none.at_end && none.rows.is_empty());
        assert_eq!(none.position, Some(0));
        // An empty search is no search: every row, nothing counted.
        let all = read_page(&db, &t, &searched(""), &Anchor::Start, 50)?;
        assert_eq!(all.rows.len(), 7);
        assert_eq!(all.matches, None);
        Ok(())
    }

    const MANY: &str = "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
        INSERT INTO big SELECT i * 3, CASE WHEN i % 3 = 0 THEN 'Match ' || i ELSE 'other ' || i END FROM n;";

    #[test]
    fn search_pages_forward_and_backward_through_matches() -> TestResult {
        let (_d, db) = db(MANY);
        let t = table_info(&db, "big")?;
        let lens = searched("MATCH");
        let expected = direct(
            &db,
            "SELECT id FROM big WHERE name LIKE '%match%' ORDER BY id",
        );
        assert_eq!(expected.len(), 20);
        for limit in [1, 3, 4, 7, 20, 50] {
            let forward = walk_forward(&db, &t, &lens, limit);
            assert_eq!(row_ids(&forward), expected, "forward by {limit}");
            assert!(forward.iter().all(|r| matches!(r.key, Key::Rowid(_))));
            let backward = walk_backward(&db, &t, &lens, limit);
            assert_eq!(row_ids(&backward), expected, "backward by {limit}");
        }
        let first = read_page(&db, &t, &lens, &Anchor::Start, 4)?;
        assert_eq!((first.position, first.matches), (Some(0), Some(20)));
        let last = read_page(&db, &t, &lens, &Anchor::End, 6)?;
        assert_eq!((last.position, last.matches), (Some(14), Some(20)));
        assert!(last.at_end && !last.at_start);
        let at = read_page(&db, &t, &lens, &Anchor::At(Key::Rowid(expected[5])), 4)?;
        assert_eq!(row_ids(&at.rows), expected[5..9]);
        assert_eq!((at.position, at.matches), (Some(5), Some(20)));
        assert!(!at.at_start);
        let after = read_page(&db, &t, &lens, &Anchor::After(Key::Rowid(expected[5])), 4)?;
        assert_eq!((after.position, after.matches), (None, None));
        Ok(())
    }

    const SORTS: &str = "CREATE TABLE s (id INTEGER PRIMARY KEY, name TEXT, any);
        INSERT INTO s VALUES (2, 'pear', 3), (5, NULL, 'x'), (6, 'Apple', NULL), (9, 'pear', 2.5),
            (10, 'apple', X'00'), (14, NULL, '10'), (15, 'fig', 10), (20, 'pear', NULL),
            (21, 'Fig', 'b'), (30, '', 1), (31, 'pear', 3);";

    #[test]
    fn sort_walks_match_sqlite_order_with_nulls_ties_and_mixed_types() -> TestResult {
        let (_d, db) = db(SORTS);
        let t = table_info(&db, "s")?;
        for column in ["name", "any"] {
            for descending in [false, true] {
                let lens = sorted(column, descending);
                let dir = if descending { " DESC" } else { "" };
                let expected = direct(
                    &db,
                    &format!("SELECT id FROM s ORDER BY \"{column}\"{dir}, rowid"),
                );
                for limit in [1, 3, 4, 11, 20] {
                    let forward = walk_forward(&db, &t, &lens, limit);
                    assert_eq!(
                        row_ids(&forward),
                        expected,
                        "{column}{dir} forward by {limit}"
                    );
                    let keys: Vec<Key> = forward.iter().map(|r| r.key.clone()).collect();
                    let positions: Vec<Key> = (0..expected.len() as u64).map(Key::Offset).collect();
                    assert_eq!(keys, positions);
                    let backward = walk_backward(&db, &t, &lens, limit);
                    assert_eq!(
                        row_ids(&backward),
                        expected,
                        "{column}{dir} backward by {limit}"
                    );
                }
            }
        }
        let end = read_page(&db, &t, &sorted("name", false), &Anchor::End, 4)?;
        assert_eq!((end.position, end.matches), (Some(7), Some(11)));
        // The sort column is matched as SQLite matches names.
        let upper = read_page(&db, &t, &sorted("NAME", true), &Anchor::Start, 2)?;
        assert_eq!(row_ids(&upper.rows), vec![2, 9]);
        Ok(())
    }

    #[test]
    fn sort_and_search_together() -> TestResult {
        let (_d, db) = db(SORTS);
        let t = table_info(&db, "s")?;
        let lens = Lens {
            search: Some("E".into()),
            sort: Some(Sort {
                column: "name".into(),
                descending: true,
            }),
        };
        let expected = direct(
            &db,
            "SELECT id FROM s WHERE name LIKE '%e%' ORDER BY name DESC, rowid",
        );
        assert_eq!(expected, vec![2, 9, 20, 31, 10, 6]);
        for limit in [1, 2, 4, 10] {
            assert_eq!(row_ids(&walk_forward(&db, &t, &lens, limit)), expected);
            assert_eq!(row_ids(&walk_backward(&db, &t, &lens, limit)), expected);
        }
        let first = read_page(&db, &t, &lens, &Anchor::Start, 4)?;
        assert_eq!((first.position, first.matches), (Some(0), Some(6)));
        let next = read_page(&db, &t, &lens, &Anchor::After(Key::Offset(3)), 4)?;
        assert_eq!(row_ids(&next.rows), vec![10, 6]);
        assert_eq!((next.position, next.matches), (Some(4), None));
        assert!(next.at_end);
        Ok(())
    }

    #[test]
    fn unknown_sort_column_and_keys_of_another_order_are_refused() -> TestResult {
        let (_d, db) = db(SORTS);
        let t = table_info(&db, "s")?;
        let bad = sorted("nope", false);
        let err = read_page(&db, &t, &bad, &Anchor::Start, 5).unwrap_err();
        assert!(
            matches!(&err, DbError::Browse(BrowseRefusal::UnknownSortColumn { column, .. }) if column == "nope"),
            "{err}"
        );
        let err = read_cell(&db, &t, &bad, &Key::Rowid(2), "name").unwrap_err();
        assert!(matches!(
            err,
            DbError::Browse(BrowseRefusal::UnknownSortColumn { .. })
        ));
        let err = read_page(
            &db,
            &t,
            &sorted("name", false),
            &Anchor::After(Key::Rowid(2)),
            5,
        )
        .unwrap_err();
        assert!(matches!(err, DbError::Browse(BrowseRefusal::OtherOrder)));
        let err = read_page(&db, &t, PLAIN, &Anchor::After(Key::Offset(2)), 5).unwrap_err();
        assert!(matches!(err, DbError::Browse(BrowseRefusal::OtherOrder)));
        Ok(())
    }

    #[test]
    fn position_on_rowid_table_with_gaps() -> TestResult {
        let (_d, db) = db(&format!("{ROWID} DELETE FROM t WHERE id IN (4, 10, 30);"));
        let t = table_info(&db, "t")?;
        let all = direct(&db, "SELECT id FROM t ORDER BY id");
        assert_eq!(all.len(), 22);
        let at = |n: u64, limit: usize| read_page(&db, &t, PLAIN, &Anchor::Position(n), limit);
        let first = at(0, 5)?;
        assert_eq!(ids(&first), all[..5]);
        assert!(first.at_start && !first.at_end);
        assert_eq!(first.position, Some(0));
        let middle = at(7, 5)?;
        assert_eq!(ids(&middle), all[7..12]);
        assert_eq!(middle.rows[0].key, Key::Rowid(all[7]));
        assert!(!middle.at_start && !middle.at_end);
        assert_eq!((middle.position, middle.matches), (Some(7), None));
        let tail = at(20, 5)?;
        assert_eq!(ids(&tail), all[20..]);
        assert!(tail.at_end);
        assert_eq!(tail.position, Some(20));
        for past in [22, 23, 1000, u64::MAX] {
            let end = at(past, 5)?;
            assert_eq!(ids(&end), all[17..], "Position({past})");
            assert!(end.at_end && !end.at_start);
            assert_eq!((end.position, end.matches), (Some(17), Some(22)));
        }
        Ok(())
    }

    #[test]
    fn position_on_without_rowid_and_views() -> TestResult {
        let (_d, db) = db(&format!(
            "{ROWID} CREATE VIEW v AS SELECT id, v FROM t;
             CREATE TABLE w (a TEXT, b INTEGER, c TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
             INSERT INTO w VALUES ('x', 2, '1'), ('x', 1, '2'), ('y', 0, '3'), ('a', 9, '4');"
        ));
        let w = table_info(&db, "w")?;
        let page = read_page(&db, &w, PLAIN, &Anchor::Position(2), 5)?;
        assert_eq!(
            page.rows[0].key,
            Key::Primary(vec![Value::Text("x".into()), Value::Integer(2)])
        );
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.position, Some(2));
        assert!(!page.at_start && page.at_end);
        let past = read_page(&db, &w, PLAIN, &Anchor::Position(4), 3)?;
        assert_eq!(past.rows[0].values[2], Value::Text("2".into()));
        assert_eq!((past.position, past.matches), (Some(1), Some(4)));

        let v = table_info(&db, "v")?;
        let page = read_page(&db, &v, PLAIN, &Anchor::Position(5), 10)?;
        assert_eq!(page.rows[0].key, Key::Offset(5));
        assert_eq!(ids(&page)[0], 12);
        assert_eq!(page.position, Some(5));
        assert!(!page.at_start && !page.at_end);
        let past = read_page(&db, &v, PLAIN, &Anchor::Position(100), 10)?;
        assert_eq!(past.rows[0].key, Key::Offset(15));
        assert_eq!((past.position, past.matches), (Some(15), Some(25)));
        assert!(past.at_end);
        Ok(())
    }

    #[test]
    fn position_under_a_lens() -> TestResult {
        let (_d, db) = db(&format!("{MANY} {SORTS}"));
        let s = table_info(&db, "s")?;
        let order = direct(&db, "SELECT id FROM s ORDER BY name, rowid");
        let lens = sorted("name", false);
        let page = read_page(&db, &s, &lens, &Anchor::Position(3), 4)?;
        assert_eq!(row_ids(&page.rows), order[3..7]);
        assert_eq!(page.rows[0].key, Key::Offset(3));
        assert_eq!((page.position, page.matches), (Some(3), Some(11)));
        let past = read_page(&db, &s, &lens, &Anchor::Position(11), 4)?;
        assert_eq!(row_ids(&past.rows), order[7..]);
        assert_eq!(past.position, Some(7));
        assert!(past.at_end && !past.at_start);

        let big = table_info(&db, "big")?;
        let found = direct(
            &db,
            "SELECT id FROM big WHERE name LIKE '%match%' ORDER BY id",
        );
        let lens = searched("match");
        let page = read_page(&db, &big, &lens, &Anchor::Position(7), 4)?;
        assert_eq!(row_ids(&page.rows), found[7..11]);
        assert_eq!(page.rows[0].key, Key::Rowid(found[7]));
        assert_eq!((page.position, page.matches), (Some(7), Some(20)));
        let past = read_page(&db, &big, &lens, &Anchor::Position(50), 4)?;
        assert_eq!(row_ids(&past.rows), found[16..]);
        assert_eq!((past.position, past.matches), (Some(16), Some(20)));
        assert!(past.at_end);
        Ok(())
    }

    #[test]
    fn read_cell_under_a_lens_reads_the_row_shown() -> TestResult {
        let (_d, db) = db("CREATE TABLE l (id INTEGER PRIMARY KEY, k TEXT, body TEXT);
            INSERT INTO l VALUES (1, 'c', printf('%.5000c', 'c')), (2, 'a', printf('%.5000c', 'a')),
                (3, 'b', 'short b');");
        let t = table_info(&db, "l")?;
        let full = |c: char| Value::Text(c.to_string().repeat(5000));
        for (descending, first, last) in [(false, 'a', 'c'), (true, 'c', 'a')] {
            let lens = sorted("k", descending);
            let page = read_page(&db, &t, &lens, &Anchor::Start, 10)?;
            assert_eq!(page.rows[0].cut_len(2), Some(5000));
            assert_eq!(
                read_cell(&db, &t, &lens, &page.rows[0].key, "body")?,
                full(first)
            );
            assert_eq!(
                read_cell(&db, &t, &lens, &page.rows[2].key, "body")?,
                full(last)
            );
        }
        let both = Lens {
            search: Some("C".into()),
            sort: Some(Sort {
                column: "k".into(),
                descending: true,
            }),
        };
        let page = read_page(&db, &t, &both, &Anchor::Start, 10)?;
        assert_eq!(page.rows.len(), 1);
        assert_eq!(
            read_cell(&db, &t, &both, &page.rows[0].key, "body")?,
            full('c')
        );
        let lens = searched("SHORT");
        let page = read_page(&db, &t, &lens, &Anchor::Start, 10)?;
        assert_eq!(page.rows[0].key, Key::Rowid(3));
        let cell = read_cell(&db, &t, &lens, &page.rows[0].key, "body")?;
        assert_eq!(cell, Value::Text("short b".into()));
        Ok(())
    }

    #[test]
    fn plain_lens_is_no_search_and_no_sort() {
        assert!(Lens::default().is_plain());
        assert!(searched("").is_plain());
        assert!(!searched(" ").is_plain());
        assert!(!sorted("k", false).is_plain());
        assert_eq!(like_pattern(r"50%_a\b"), r"%50\%\_a\\b%");
    }
}
