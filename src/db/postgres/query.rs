//! The read-only gate on Postgres, for `rowsmith query` and the app's `:` line.
//!
//! Four independent layers, any one of which refuses:
//!
//! 1. the statement's shape, read by a lexer that knows Postgres's quoting (dollar
//!    quotes, `E''` strings with backslash escapes, nested block comments): only
//!    `SELECT`, `WITH`, `VALUES`, `TABLE`, `EXPLAIN` of those and `SHOW` pass; a
//!    data-changing word anywhere (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, `INTO`, …) and
//!    any call of a function that reaches outside the transaction (files, other servers,
//!    other sessions, settings, advisory locks, SQL run from a string) is refused;
//! 2. Postgres parses and plans it as one statement (`PREPARE` refuses several), and the
//!    functions of its plan (`EXPLAIN VERBOSE`) are checked against the same list, so a
//!    call the lexer could not see is still caught;
//! 3. it runs in a `READ ONLY` transaction that is always rolled back, on a connection
//!    whose every transaction defaults to read-only;
//! 4. rows come through a cursor, a page at a time, so a huge result is never held.

use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::types::Type;

use super::Postgres;
use super::tls;
use crate::db::Backend;
use crate::db::query::{
    GatedQueries, QueryControl, QueryError, Refusal, RefusalKind, RowSink, held_value, lead_phrase,
};
use crate::db::value::Value;

/// Functions that reach outside the read-only transaction: the server's files, other
/// servers, other sessions, settings, locks, WAL and replication, large objects, and SQL
/// run from a string (which the gate could not read).
pub const DENIED_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "pg_ls_logicalsnapdir",
    "pg_ls_logicalmapdir",
    "pg_ls_replslotdir",
    "pg_stat_file",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "pg_logdir_ls",
    "lo_import",
    "lo_export",
    "lo_create",
    "lo_creat",
    "lo_unlink",
    "lo_open",
    "lo_put",
    "lo_from_bytea",
    "lo_truncate",
    "lowrite",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "dblink_open",
    "dblink_fetch",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "set_config",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_all",
    "pg_advisory_unlock_shared",
    "pg_notify",
    "pg_create_restore_point",
    "pg_switch_wal",
    "pg_promote",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_slot_advance",
    "pg_logical_slot_get_changes",
    "pg_logical_slot_get_binary_changes",
    "pg_logical_emit_message",
    "pg_replication_origin_create",
    "pg_replication_origin_drop",
    "pg_replication_origin_advance",
    "pg_replication_origin_session_setup",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_reset_replication_slot",
    "pg_stat_reset_subscription_stats",
    "pg_stat_statements_reset",
    "pg_import_system_collations",
    "pg_log_backend_memory_contexts",
    "pg_export_snapshot",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
];

/// Words that begin, or take part in, a statement that changes something.
const WRITING_WORDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "TRUNCATE",
    "INTO",
    "COPY",
    "CREATE",
    "DROP",
    "ALTER",
    "GRANT",
    "REVOKE",
    "CALL",
    "DO",
    "LOCK",
    "VACUUM",
    "ANALYSE",
    "CLUSTER",
    "REINDEX",
    "REFRESH",
    "COMMENT",
    "SECURITY",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "LOAD",
    "DISCARD",
    "CHECKPOINT",
    "DECLARE",
    "FETCH",
    "MOVE",
    "CLOSE",
    "EXECUTE",
    "PREPARE",
    "DEALLOCATE",
    "IMPORT",
    "REASSIGN",
];

/// Commands that neither read nor fit the lists above.
const OTHER_COMMANDS: &[&str] = &["ANALYZE", "REPLACE", "UPSERT", "ATTACH", "DETACH", "PRAGMA"];

const TRANSACTION_WORDS: &[&str] = &[
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "ABORT",
];

/// One token of Postgres SQL, as much as the gate needs.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word, upper-cased.
    Word(String),
    /// A double-quoted name, unquoted.
    Quoted(String),
    Punct(char),
    /// A string, number or parameter: nothing the gate reads.
    Literal,
}

/// Splits Postgres SQL into tokens, skipping comments (block comments nest) and reading
/// every string form Postgres has: `'…'`, `E'…'` with backslash escapes, `U&'…'`,
/// `B'…'`/`X'…'`, and `$tag$…$tag$`. Unterminated text ends the input.
fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let n = chars.len();
    while i < n {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < n {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '\'' {
            i = skip_string(&chars, i + 1, false);
            out.push(Token::Literal);
        } else if c == '"' {
            let mut name = String::new();
            i += 1;
            while i < n {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        name.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            out.push(Token::Quoted(name));
        } else if c == '$' {
            // $1 is a parameter; $tag$ (or $$) opens a dollar-quoted string.
            let mut j = i + 1;
            while j < n && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j < n
                && chars[j] == '$'
                && !chars[i + 1..j].first().is_some_and(char::is_ascii_digit)
            {
                let tag: String = chars[i..=j].iter().collect();
                let body_start = j + 1;
                let rest: String = chars[body_start..].iter().collect();
                i = match rest.find(&tag) {
                    Some(at) => body_start + rest[..at].chars().count() + tag.chars().count(),
                    None => n,
                };
            } else {
                i = j.max(i + 1);
            }
            out.push(Token::Literal);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let upper = word.to_uppercase();
            // E'…', U&'…', B'…', X'…', N'…': a prefix glued to a string.
            if chars.get(i) == Some(&'\'') && matches!(upper.as_str(), "E" | "B" | "X" | "N") {
                i = skip_string(&chars, i + 1, upper == "E");
                out.push(Token::Literal);
            } else if upper == "U" && chars.get(i) == Some(&'&') && chars.get(i + 1) == Some(&'\'')
            {
                i = skip_string(&chars, i + 2, false);
                out.push(Token::Literal);
            } else {
                out.push(Token::Word(upper));
            }
        } else if c.is_ascii_digit() {
            while i < n && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Literal);
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// The position after a string that starts at `i` (just past its opening quote).
fn skip_string(chars: &[char], mut i: usize, backslashes: bool) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' if backslashes => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

/// What the statement is, by its first word (`EXPLAIN`'s by the statement it explains).
fn statement_refusal(single: &str) -> Option<Refusal> {
    let tokens = tokens(single);
    let what = || lead_phrase(single).unwrap_or_else(|| "this statement".into());
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let first = *words.first()?;
    let refuse = |kind| Some(Refusal { kind, what: what() });
    match first {
        "SELECT" | "WITH" | "VALUES" | "TABLE" | "EXPLAIN" | "SHOW" => {}
        w if TRANSACTION_WORDS.contains(&w) => return refuse(RefusalKind::Transaction),
        "SET" | "RESET" => return refuse(RefusalKind::Setting),
        w if WRITING_WORDS.contains(&w) || OTHER_COMMANDS.contains(&w) => {
            return refuse(RefusalKind::Write);
        }
        // Not a command Postgres knows: its parser says what is wrong (and a command it
        // does know after all is refused once parsed, see `PgQueries::gate`).
        _ => return None,
    }
    if let Some(word) = words.iter().find(|w| WRITING_WORDS.contains(w)) {
        return Some(Refusal {
            kind: RefusalKind::Write,
            what: (*word).to_string(),
        });
    }
    if first == "SELECT" || first == "WITH" {
        // SELECT … FOR UPDATE / FOR SHARE takes row locks.
        for pair in words.windows(2) {
            if pair[0] == "FOR" && matches!(pair[1], "UPDATE" | "SHARE" | "NO" | "KEY") {
                return Some(Refusal {
                    kind: RefusalKind::Write,
                    what: format!("FOR {}", pair[1]),
                });
            }
        }
    }
    function_refusal(&tokens)
}

/// A call of a denied function: a name (bare or quoted, schema-qualified or not) right
/// before `(`.
fn function_refusal(tokens: &[Token]) -> Option<Refusal> {
    tokens.windows(2).find_map(|pair| {
        let name = match &pair[0] {
            Token::Word(w) => w.to_lowercase(),
            Token::Quoted(q) => q.clone(),
            _ => return None,
        };
        (pair[1] == Token::Punct('(') && DENIED_FUNCTIONS.contains(&name.as_str())).then(|| {
            Refusal {
                kind: RefusalKind::Function,
                what: format!("{name}()"),
            }
        })
    })
}

/// A read-only Postgres connection behind the gate.
pub struct PgQueries {
    db: Postgres,
}

impl PgQueries {
    pub fn new(db: Postgres) -> Self {
        Self { db }
    }

    /// A Postgres error as the query error a user reads.
    fn classify(&self, e: &tokio_postgres::Error) -> QueryError {
        let Some(db) = e.as_db_error() else {
            return QueryError::Db(self.db.err(e));
        };
        let code = db.code().code();
        let detail = db.message().trim_end_matches('.').to_string();
        match code {
            "57014" => QueryError::Cancelled,
            "25006" => QueryError::Refused(Refusal {
                kind: RefusalKind::Write,
                what: detail,
            }),
            "42601" => QueryError::Unparsable {
                engine: "Postgres",
                detail,
            },
            c if c.starts_with("08") || c.starts_with("57") || c.starts_with("53") => {
                QueryError::Db(self.db.err(e))
            }
            _ => QueryError::Invalid {
                engine: "Postgres",
                detail,
            },
        }
    }

    /// Layers 1 and 2: the statement's shape and words, then Postgres's own parse and
    /// the functions of its plan.
    fn gate(&self, single: &str) -> Result<tokio_postgres::Statement, QueryError> {
        if let Some(r) = statement_refusal(single) {
            return Err(QueryError::Refused(r));
        }
        let statement = self
            .db
            .wait(self.db.client.prepare(single))
            .map_err(|e| self.classify(&e))?;
        let first = crate::db::query::first_keyword(single).unwrap_or_default();
        if !matches!(
            first.as_str(),
            "SELECT" | "WITH" | "VALUES" | "TABLE" | "EXPLAIN" | "SHOW"
        ) {
            return Err(QueryError::Refused(Refusal {
                kind: RefusalKind::Write,
                what: lead_phrase(single).unwrap_or_else(|| first.clone()),
            }));
        }
        if let Some(name) = self.volatile_user_function(single)? {
            return Err(QueryError::Refused(Refusal {
                kind: RefusalKind::Function,
                what: format!("{name}()"),
            }));
        }
        if matches!(first.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE") {
            let plan = self
                .in_read_only(|db| db.simple(&format!("EXPLAIN (VERBOSE, COSTS OFF) {single}")))?;
            let text: String = plan
                .iter()
                .flatten()
                .flatten()
                .map(|s| s.to_lowercase())
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(name) = DENIED_FUNCTIONS.iter().find(|f| plan_calls(&text, f)) {
                return Err(QueryError::Refused(Refusal {
                    kind: RefusalKind::Function,
                    what: format!("{name}()"),
                }));
            }
        }
        Ok(statement)
    }

    /// A function of the database's own (not Postgres's) that the statement calls and
    /// that is VOLATILE: only volatile functions may write, so one is refused rather than
    /// run (stable and immutable ones are read-only by Postgres's rules).
    fn volatile_user_function(&self, single: &str) -> Result<Option<String>, QueryError> {
        let names: Vec<String> = tokens(single)
            .windows(2)
            .filter(|pair| pair[1] == Token::Punct('('))
            .filter_map(|pair| match &pair[0] {
                Token::Word(w) => Some(w.to_lowercase()),
                Token::Quoted(q) => Some(q.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return Ok(None);
        }
        let rows = self
            .db
            .wait(self.db.client.query(
                "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE p.proname = ANY($1) AND p.provolatile = 'v' \
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema') LIMIT 1",
                &[&names],
            ))
            .map_err(|e| self.classify(&e))?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// Runs `work` in a read-only transaction that is always rolled back.
    fn in_read_only<T>(
        &self,
        work: impl FnOnce(&Self) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        self.db
            .wait(
                self.db
                    .client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            )
            .map_err(|e| self.classify(&e))?;
        let result = work(self);
        let rolled_back = self.db.wait(self.db.client.batch_execute("ROLLBACK"));
        match (result, rolled_back) {
            (Ok(value), Ok(())) => Ok(value),
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(self.classify(&e)),
        }
    }

    /// The rows of one simple-protocol statement, as text.
    fn simple(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, QueryError> {
        let messages = self
            .db
            .wait(self.db.client.simple_query(sql))
            .map_err(|e| self.classify(&e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }
}

/// Whether a plan's text calls `function` (`pg_read_file(` or `pg_catalog.pg_read_file(`).
fn plan_calls(plan: &str, function: &str) -> bool {
    plan.match_indices(function).any(|(at, _)| {
        let before = plan[..at].chars().next_back();
        let after = plan[at + function.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
    })
}

/// A value of a result column, from the text Postgres sends for it.
fn value_of(ty: &Type, text: Option<&str>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => text
            .parse()
            .map(Value::Integer)
            .unwrap_or_else(|_| Value::Text(text.into())),
        Type::FLOAT4 | Type::FLOAT8 => text
            .parse()
            .map(Value::Real)
            .unwrap_or_else(|_| Value::Text(text.into())),
        Type::NUMERIC => match text.parse::<i64>() {
            Ok(i) => Value::Integer(i),
            Err(_) => match text.parse::<f64>() {
                Ok(x) if x.is_finite() => Value::Real(x),
                _ => Value::Text(text.into()),
            },
        },
        Type::BOOL => Value::Integer(i64::from(text == "t")),
        Type::BYTEA => match super::values::bytea(text) {
            Some(bytes) => Value::Blob(bytes),
            None => Value::Text(text.into()),
        },
        _ => Value::Text(text.into()),
    }
}

/// Rows fetched from the cursor at a time.
const PAGE: usize = 500;

impl GatedQueries for PgQueries {
    fn database(&self) -> &dyn Backend {
        &self.db
    }

    fn lost(&self) -> bool {
        self.db.client.is_closed()
    }

    fn check(&self, single: &str) -> Result<Vec<String>, QueryError> {
        let statement = self.gate(single)?;
        Ok(statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect())
    }

    fn stream(
        &self,
        single: &str,
        control: &QueryControl,
        max_cell: Option<usize>,
        each: &mut RowSink<'_>,
    ) -> Result<Vec<String>, QueryError> {
        let statement = self.gate(single)?;
        let columns: Vec<String> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let types: Vec<Type> = statement
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let first = crate::db::query::first_keyword(single).unwrap_or_default();
        let through_cursor = matches!(first.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE");

        // A stop asked for while a page is being computed cancels it on the server.
        let token = self.db.client.cancel_token();
        let watch = control.clone();
        let tls_mode = self.db.address.tls;
        let watcher = self.db.runtime.spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                if watch.is_cancelled() {
                    if let Ok(connector) = tls::connector(tls_mode) {
                        let _ = token.cancel_query(connector).await;
                    }
                    return;
                }
            }
        });

        let mut deliver = |rows: Vec<Vec<Option<String>>>| -> Result<bool, QueryError> {
            for row in rows {
                control.count_row();
                let values: Vec<Value> = row
                    .iter()
                    .zip(&types)
                    .map(|(text, ty)| {
                        let v = value_of(ty, text.as_deref());
                        match max_cell {
                            Some(max) => held_value(v, max),
                            None => v,
                        }
                    })
                    .collect();
                if !each(&columns, &values)? {
                    return Ok(false);
                }
                if control.is_cancelled() {
                    return Err(QueryError::Cancelled);
                }
            }
            Ok(true)
        };
        let result = self.in_read_only(|gate| {
            if !through_cursor {
                let rows = gate.simple(single)?;
                control.tick();
                deliver(rows)?;
                return Ok(());
            }
            gate.simple(&format!(
                "DECLARE rowsmith_query NO SCROLL CURSOR FOR {single}"
            ))?;
            loop {
                if control.is_cancelled() {
                    return Err(QueryError::Cancelled);
                }
                let rows = gate.simple(&format!("FETCH FORWARD {PAGE} FROM rowsmith_query"))?;
                control.tick();
                let last = rows.len() < PAGE;
                if !deliver(rows)? || last {
                    return Ok(());
                }
            }
        });
        watcher.abort();
        result.map(|()| columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> Option<RefusalKind> {
        statement_refusal(sql).map(|r| r.kind)
    }

    #[test]
    fn the_lexer_reads_postgres_quoting_so_nothing_hides_in_a_string() {
        assert_eq!(
            refused("SELECT E'\\'', pg_read_file('/etc/passwd') --'"),
            Some(RefusalKind::Function)
        );
        assert_eq!(
            refused("SELECT $$ ' $$, pg_read_file('x')"),
            Some(RefusalKind::Function)
        );
        assert_eq!(refused("SELECT $q$ pg_read_file('x') $q$"), None);
        assert_eq!(refused("SELECT 'pg_read_file(1)', \"name\" FROM t"), None);
        assert_eq!(
            refused("SELECT /* /* nested */ pg_read_file('x') */ 1"),
            None,
            "inside a nested comment"
        );
        assert_eq!(
            refused("SELECT pg_catalog.\"pg_read_file\"('x')"),
            Some(RefusalKind::Function)
        );
    }

    #[test]
    fn plans_are_searched_for_calls_not_names() {
        assert!(plan_calls(
            "output: pg_read_file('x'::text)",
            "pg_read_file"
        ));
        assert!(!plan_calls("output: my_pg_read_file('x')", "pg_read_file"));
        assert!(!plan_calls(
            "filter: (pg_read_file_count > 1)",
            "pg_read_file"
        ));
    }
}
