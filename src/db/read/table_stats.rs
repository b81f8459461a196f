//! What a generation learns about its table before making rows: the exact row count and
//! the column profile, read in one snapshot and reused from the profile cache while the
//! table is unchanged.
//!
//! Both are costly on a big table (a count reads every page; a profile runs several
//! queries per column over its sample), and both are fixed by the table's state, so a
//! second run on an unchanged table reads them back instead.

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::db::catalog::TableInfo;
use crate::db::profile::{ProfileOptions, TableProfile};
use crate::db::profile_cache::{Entry, ProfileCache};
use crate::db::table_state::TableState;
use crate::db::{Backend, DbError};

/// What to learn, and where kept profiles live.
#[derive(Debug, Clone)]
pub struct StatsRequest<'a> {
    pub options: ProfileOptions,
    /// Seeds the profile's sample; `None` draws it at random.
    pub seed: Option<u64>,
    /// `None` learns afresh and keeps nothing.
    pub cache: Option<&'a ProfileCache>,
}

/// A table's row count and profile.
#[derive(Debug, Clone)]
pub struct TableStats {
    pub rows: u64,
    /// `None` for an empty table.
    pub profile: Option<TableProfile>,
    /// Read back from the cache rather than computed.
    pub reused: bool,
}

/// Inside the snapshot: the state, then the kept facts or fresh ones.
fn learn(
    db: &dyn Backend,
    table: &TableInfo,
    request: &StatsRequest,
) -> Result<(TableStats, Option<TableState>), DbError> {
    // A schema changed since `table` was read would have its profile kept under the new
    // state with the old columns: such a run neither reads nor keeps anything.
    let state = match request.cache {
        Some(_) => db.table_state(table)?.filter(|s| s.sql == table.sql),
        None => None,
    };
    if let (Some(cache), Some(state)) = (request.cache, &state)
        && let Some(entry) = cache.load(state)
        && entry.serves(&request.options, request.seed)
    {
        let stats = TableStats {
            rows: entry.rows,
            profile: Some(entry.profile),
            reused: true,
        };
        return Ok((stats, None));
    }
    let rows = db.count(table)?;
    let profile = if rows > 0 {
        let mut rng = match request.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Some(db.profile_table(table, &request.options, &mut rng)?)
    } else {
        None
    };
    let stats = TableStats {
        rows,
        profile,
        reused: false,
    };
    Ok((stats, state))
}

/// Counts and profiles `table`, or reads both back from the cache when they were
/// learned from this very state of the table.
pub fn table_stats(
    db: &dyn Backend,
    table: &TableInfo,
    request: &StatsRequest,
) -> Result<TableStats, DbError> {
    // One read snapshot: the state, the count and the profile describe the same rows,
    // and no commit can land between them (see `table_state`).
    let mut learned = None;
    db.in_snapshot(&mut || {
        learned = Some(learn(db, table, request)?);
        Ok(())
    })?;
    let (stats, state) = learned.ok_or(DbError::Cancelled)?;
    if stats.reused {
        return Ok(stats);
    }
    let (rows, profile) = (stats.rows, stats.profile);
    if let (Some(cache), Some(state), Some(profile)) = (request.cache, state, profile.clone()) {
        cache.store(&Entry::new(
            state,
            request.options.clone(),
            request.seed,
            rows,
            profile,
        ));
    }
    Ok(TableStats {
        rows,
        profile,
        reused: false,
    })
}
