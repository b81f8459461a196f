//! Reading a table a page at a time, for the row browser.
//!
//! Rowid tables are paged by rowid (`WHERE rowid > ? ORDER BY rowid LIMIT ?`
//! and backwards), WITHOUT ROWID tables by their primary key as a row value,
//! and views and virtual tables by LIMIT/OFFSET. Each page is an index seek,
//! so reading near the end of a 5,000,000-row table costs what reading near
//! its start does, and nothing but the page is ever held in memory.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::catalog::TableInfo;
use super::ident::{quote, quote_list};
use super::sample::rowid_name;
use super::{Database, DbError};

/// Text and blobs longer than this many bytes are cut in pages; the whole
/// value is read on demand with [`read_cell`].
pub const CELL_LIMIT: usize = 4096;

/// Where a row sits in its table's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Rowid(i64),
    /// Primary-key values of a WITHOUT ROWID table, in key order.
    Primary(Vec<Value>),
    /// Position, for views and virtual tables.
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

/// Consecutive rows in table order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub columns: Vec<String>,
    pub rows: Vec<PageRow>,
    /// No rows come before the first one.
    pub at_start: bool,
    /// No rows come after the last one.
    pub at_end: bool,
}

/// How a table is ordered for paging.
enum Order<'a> {
    Rowid(&'static str),
    Primary(Vec<&'a str>),
    Offset,
}

fn order_of(table: &TableInfo) -> Order<'_> {
    if table.has_rowid()
        && let Some(name) = rowid_name(table)
    {
        return Order::Rowid(name);
    }
    let pk = table.primary_key();
    if table.kind == super::catalog::ObjectKind::Table && !pk.is_empty() {
        return Order::Primary(pk.iter().map(|c| c.name.as_str()).collect());
    }
    Order::Offset
}

/// Reads up to `limit` rows of `table` at `anchor`.
pub fn read_page(
    db: &Database,
    table: &TableInfo,
    anchor: &Anchor,
    limit: usize,
) -> Result<Page, DbError> {
    read_page_conn(db.conn(), table, anchor, limit.max(1)).map_err(|e| db.err(e))
}

fn read_page_conn(
    conn: &Connection,
    table: &TableInfo,
    anchor: &Anchor,
    limit: usize,
) -> rusqlite::Result<Page> {
    let columns: Vec<String> = table.visible_columns().map(|c| c.name.clone()).collect();
    let select = if columns.is_empty() {
        "*".to_string()
    } else {
        quote_list(columns.iter().map(String::as_str))
    };
    let from = format!("main.{}", quote(&table.name));
    match order_of(table) {
        Order::Rowid(rid) => {
            let key_of = |k: &Key| match k {
                Key::Rowid(id) => Value::Integer(*id),
                _ => Value::Null,
            };
            let sql = |cond: &str, desc: bool| {
                format!(
                    "SELECT {rid}, {select} FROM {from} {cond} ORDER BY {rid}{} LIMIT ?",
                    if desc { " DESC" } else { "" }
                )
            };
            let gt = format!("WHERE {rid} > ?");
            let ge = format!("WHERE {rid} >= ?");
            let lt = format!("WHERE {rid} < ?");
            let exists_before = format!("SELECT EXISTS(SELECT 1 FROM {from} WHERE {rid} < ?)");
            keyed(
                conn,
                anchor,
                limit,
                columns,
                &KeyedSql {
                    start: sql("", false),
                    end: sql("", true),
                    after: sql(&gt, false),
                    at: sql(&ge, false),
                    before: sql(&lt, true),
                    exists_before,
                    key_params: &|k| vec![key_of(k)],
                    make_key: &|values: &mut Vec<Value>| {
                        let id = match values.remove(0) {
                            Value::Integer(i) => i,
                            _ => 0,
                        };
                        Key::Rowid(id)
                    },
                },
            )
        }
        Order::Primary(pk) => {
            let list = quote_list(pk.iter().copied());
            let positions: Vec<usize> = pk
                .iter()
                .filter_map(|k| columns.iter().position(|c| c.eq_ignore_ascii_case(k)))
                .collect();
            let marks = vec!["?"; pk.len()].join(", ");
            let sql = |cond: &str, desc: bool| {
                let order = if desc {
                    pk.iter()
                        .map(|c| format!("{} DESC", quote(c)))
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    list.clone()
                };
                format!("SELECT {select} FROM {from} {cond} ORDER BY {order} LIMIT ?")
            };
            let gt = format!("WHERE ({list}) > ({marks})");
            let ge = format!("WHERE ({list}) >= ({marks})");
            let lt = format!("WHERE ({list}) < ({marks})");
            let exists_before =
                format!("SELECT EXISTS(SELECT 1 FROM {from} WHERE ({list}) < ({marks}))");
            keyed(
                conn,
                anchor,
                limit,
                columns,
                &KeyedSql {
                    start: sql("", false),
                    end: sql("", true),
                    after: sql(&gt, false),
                    at: sql(&ge, false),
                    before: sql(&lt, true),
                    exists_before,
                    key_params: &|k| match k {
                        Key::Primary(values) => values.clone(),
                        _ => vec![Value::Null; pk.len()],
                    },
                    make_key: &|values: &mut Vec<Value>| {
                        Key::Primary(
                            positions
                                .iter()
                                .map(|&i| values.get(i).cloned().unwrap_or(Value::Null))
                                .collect(),
                        )
                    },
                },
            )
        }
        Order::Offset => by_offset(conn, &from, &select, columns, anchor, limit),
    }
}

/// The statements of one keyed order.
struct KeyedSql<'a> {
    start: String,
    end: String,
    after: String,
    at: String,
    before: String,
    exists_before: String,
    key_params: &'a dyn Fn(&Key) -> Vec<Value>,
    /// Takes the key from a fetched row (removing the rowid column it leads with).
    make_key: &'a dyn Fn(&mut Vec<Value>) -> Key,
}

fn keyed(
    conn: &Connection,
    anchor: &Anchor,
    limit: usize,
    columns: Vec<String>,
    sql: &KeyedSql<'_>,
) -> rusqlite::Result<Page> {
    // One row more than asked tells whether the table goes on.
    let probe = (limit + 1) as i64;
    let (text, key, reversed) = match anchor {
        Anchor::Start => (&sql.start, None, false),
        Anchor::End => (&sql.end, None, true),
        Anchor::After(k) => (&sql.after, Some(k), false),
        Anchor::At(k) => (&sql.at, Some(k), false),
        Anchor::Before(k) => (&sql.before, Some(k), true),
    };
    let mut params: Vec<Value> = key.map(|k| (sql.key_params)(k)).unwrap_or_default();
    params.push(Value::Integer(probe));
    let mut rows = fetch(conn, text, &params, sql.make_key)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if reversed {
        rows.reverse();
    }
    let (at_start, at_end) = match anchor {
        Anchor::Start => (true, !more),
        Anchor::End => (!more, true),
        Anchor::After(_) => (false, !more),
        Anchor::Before(_) => (!more, false),
        Anchor::At(k) => {
            let before: bool = conn.query_row(
                &sql.exists_before,
                params_from_iter((sql.key_params)(k)),
                |r| r.get(0),
            )?;
            (!before, !more)
        }
    };
    Ok(Page {
        columns,
        rows,
        at_start,
        at_end,
    })
}

fn fetch(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    make_key: &dyn Fn(&mut Vec<Value>) -> Key,
) -> rusqlite::Result<Vec<PageRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(super::value::value_at(row, i)?);
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

fn by_offset(
    conn: &Connection,
    from: &str,
    select: &str,
    columns: Vec<String>,
    anchor: &Anchor,
    limit: usize,
) -> rusqlite::Result<Page> {
    let offset_of = |k: &Key| match k {
        Key::Offset(n) => *n,
        _ => 0,
    };
    let total = || -> rusqlite::Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {from}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as u64)
    };
    let limit64 = limit as u64;
    let start = match anchor {
        Anchor::Start => 0,
        Anchor::End => total()?.saturating_sub(limit64),
        Anchor::After(k) => offset_of(k) + 1,
        Anchor::At(k) => offset_of(k),
        Anchor::Before(k) => offset_of(k).saturating_sub(limit64),
    };
    let take = match anchor {
        Anchor::Before(k) => offset_of(k).min(limit64),
        _ => limit64,
    };
    let sql = format!("SELECT {select} FROM {from} LIMIT ? OFFSET ?");
    let mut stmt = conn.prepare_cached(&sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query([(take + 1) as i64, start as i64])?;
    let mut out = Vec::new();
    let mut position = start;
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(super::value::value_at(row, i)?);
        }
        out.push(bounded(Key::Offset(position), values));
        position += 1;
    }
    let more = out.len() as u64 > take;
    out.truncate(take as usize);
    let at_end = match anchor {
        Anchor::End => true,
        Anchor::Before(_) => false,
        _ => !more,
    };
    Ok(Page {
        columns,
        rows: out,
        at_start: start == 0,
        at_end,
    })
}

/// Reads one whole value (after a page cut it at [`CELL_LIMIT`]).
pub fn read_cell(
    db: &Database,
    table: &TableInfo,
    key: &Key,
    column: &str,
) -> Result<Value, DbError> {
    let from = format!("main.{}", quote(&table.name));
    let col = quote(column);
    let (sql, params): (String, Vec<Value>) = match (order_of(table), key) {
        (Order::Rowid(rid), Key::Rowid(id)) => (
            format!("SELECT {col} FROM {from} WHERE {rid} = ?"),
            vec![Value::Integer(*id)],
        ),
        (Order::Primary(pk), Key::Primary(values)) => (
            format!(
                "SELECT {col} FROM {from} WHERE ({}) = ({})",
                quote_list(pk.iter().copied()),
                vec!["?"; pk.len()].join(", ")
            ),
            values.clone(),
        ),
        (_, Key::Offset(n)) => (
            format!("SELECT {col} FROM {from} LIMIT 1 OFFSET ?"),
            vec![Value::Integer(*n as i64)],
        ),
        _ => {
            return Err(DbError::Refused(
                "That row can no longer be found; reload the table.".into(),
            ));
        }
    };
    db.conn()
        .query_row(&sql, params_from_iter(params.iter()), |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => DbError::Refused(
                "That row is gone: it was deleted or changed since it was shown.".into(),
            ),
            other => db.err(other),
        })
}

#[cfg(test)]
mod tests {
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    use super::*;
    use crate::db::OpenOptions;
    use crate::db::catalog::table_info;

    fn db(sql: &str) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let db = Database::open(&path, &OpenOptions::read_only()).unwrap();
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
        let first = read_page(&db, &t, &Anchor::Start, 10)?;
        assert_eq!(ids(&first), (1..=10).map(|i| i * 2).collect::<Vec<_>>());
        assert!(first.at_start && !first.at_end);
        let next = read_page(&db, &t, &Anchor::After(Key::Rowid(20)), 10)?;
        assert_eq!(ids(&next)[0], 22);
        let last = read_page(&db, &t, &Anchor::End, 10)?;
        assert_eq!(ids(&last), (16..=25).map(|i| i * 2).collect::<Vec<_>>());
        assert!(last.at_end && !last.at_start);
        let back = read_page(&db, &t, &Anchor::Before(Key::Rowid(8)), 10)?;
        assert_eq!(ids(&back), vec![2, 4, 6]);
        assert!(back.at_start);
        let at = read_page(&db, &t, &Anchor::At(Key::Rowid(2)), 5)?;
        assert_eq!(ids(&at)[0], 2);
        assert!(at.at_start);
        let tail = read_page(&db, &t, &Anchor::After(Key::Rowid(46)), 10)?;
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
        let first = read_page(&db, &t, &Anchor::Start, 2)?;
        let keys: Vec<Key> = first.rows.iter().map(|r| r.key.clone()).collect();
        assert_eq!(
            keys,
            vec![
                Key::Primary(vec![Value::Text("a".into()), Value::Integer(9)]),
                Key::Primary(vec![Value::Text("x".into()), Value::Integer(1)]),
            ]
        );
        let next = read_page(&db, &t, &Anchor::After(keys[1].clone()), 5)?;
        assert_eq!(next.rows.len(), 2);
        assert!(next.at_end);
        assert_eq!(next.rows[1].values[2], Value::Text("3".into()));
        let back = read_page(&db, &t, &Anchor::Before(keys[1].clone()), 5)?;
        assert_eq!(back.rows.len(), 1);
        let cell = read_cell(&db, &t, &keys[1], "c")?;
        assert_eq!(cell, Value::Text("2".into()));
        Ok(())
    }

    #[test]
    fn views_page_by_offset_and_long_values_are_cut() -> TestResult {
        let (_d, db) = db(&format!(
            "{ROWID} CREATE VIEW v AS SELECT id, v FROM t; UPDATE t SET v = printf('%.5000c', 'x') WHERE id = 2;"
        ));
        let t = table_info(&db, "v")?;
        let first = read_page(&db, &t, &Anchor::Start, 10)?;
        assert_eq!(first.rows.len(), 10);
        assert_eq!(first.rows[0].cut_len(1), Some(5000));
        let end = read_page(&db, &t, &Anchor::End, 10)?;
        assert_eq!(end.rows[0].key, Key::Offset(15));
        assert!(end.at_end);
        let before = read_page(&db, &t, &Anchor::Before(Key::Offset(3)), 10)?;
        assert_eq!(before.rows.len(), 3);
        assert!(before.at_start);
        let full = read_cell(&db, &t, &Key::Offset(0), "v")?;
        assert!(matches!(full, Value::Text(s) if s.len() == 5000));
        Ok(())
    }
}
