//! Opening the database and learning the table before any rows are made.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::types::Value;

use super::{GenerateError, GenerateRequest, Source};
use crate::db::journal::{Journal, OperationId};
use crate::db::profile::{ProfileOptions, TableProfile};
use crate::db::profile_cache::ProfileCache;
use crate::db::table_stats::{StatsRequest, table_stats};
use crate::db::{CancelFlag, Database, DbError, OpenOptions};
use crate::generate::gate::{Existing, Gate, GateMode, WHOLE_TABLE_ROWS};
use crate::generate::offline::{Learning, OfflineModel};
use crate::generate::plan::Plan;
use crate::generate::privacy::{self, Identity, Masker, Privacy, RealPeople, identity_columns};
use crate::generate::validate::Guard;

/// Parent keys offered per foreign key.
const PARENT_KEYS: usize = 50;

/// Everything the batches share.
pub(super) struct Shared {
    pub(super) db: Mutex<Database>,
    pub(super) plan: Plan,
    pub(super) profile: Option<TableProfile>,
    pub(super) parent_keys: Vec<Vec<Vec<Value>>>,
    pub(super) guard: Mutex<Guard>,
    /// Per planned column: it already holds text although its type is numeric.
    pub(super) text_allowed: Vec<bool>,
    pub(super) rng: Mutex<StdRng>,
    pub(super) table_rows: u64,
    pub(super) journal: Mutex<Option<(Journal, OperationId)>>,
    pub(super) journal_path: Option<PathBuf>,
    pub(super) source_name: String,
    pub(super) dry_run: bool,
    /// Set when the job is cancelled, so a write in progress rolls back.
    pub(super) stop: CancelFlag,
    /// The offline generator, when it is the source.
    pub(super) offline: Mutex<Option<OfflineModel>>,
    /// The sample rows every model request of the run shows in its static prefix, drawn
    /// once so that the prefix stays byte-identical (and cacheable).
    pub(super) anchor: std::sync::OnceLock<Anchor>,
    /// What model requests carry of the table's rows (`None` for the offline generator).
    pub(super) privacy: Option<Privacy>,
    /// Stands in for identifying values when the privacy is `mask`.
    pub(super) masker: Masker,
    /// The profile as requests show it: values the privacy withholds taken out.
    pub(super) prompt_profile: Option<TableProfile>,
    /// Per planned column: what kind of identifying value it holds, if any.
    pub(super) identity: Vec<Option<Identity>>,
    /// The real people no new row may copy.
    pub(super) real_people: RealPeople,
    /// The realism gate, when it judges this run (`gate = "realism"` and rows to learn from).
    pub(super) gate: Mutex<Option<Gate>>,
    /// Why the gate turned rows away lately, for the model's next request.
    pub(super) feedback: Mutex<Vec<String>>,
    /// The table's place in a whole-database run, when it is one.
    pub(super) lineage: Option<std::sync::Arc<crate::generate::lineage::Lineage>>,
}

/// The anchor sample: the rows drawn, and the rows requests show (masked, or none).
pub(super) struct Anchor {
    pub(super) sample: crate::db::sample::Sample,
    pub(super) shown: Vec<Vec<Value>>,
}

/// Rows read to tell which columns identify a person (names are recognised by their values).
const IDENTITY_SAMPLE: usize = 50;

/// What the run knows of the people in the table: which columns identify one, the real
/// people new rows must not copy, and for a model run its privacy, the masker and the
/// profile as requests may show it. Its own random source, so a seed draws the same rows
/// as before.
struct People {
    identity: Vec<Option<Identity>>,
    real: RealPeople,
    privacy: Option<Privacy>,
    masker: Masker,
    prompt_profile: Option<TableProfile>,
}

fn people_for(
    db: &Database,
    plan: &Plan,
    profile: Option<&TableProfile>,
    table_rows: u64,
    request: &GenerateRequest,
    source: &Source,
) -> Result<People, DbError> {
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed ^ 0x7072_6976),
        None => StdRng::from_os_rng(),
    };
    let sample = if table_rows > 0 {
        db.sample_rows(&plan.table, IDENTITY_SAMPLE, &mut rng)?
    } else {
        crate::db::sample::Sample {
            columns: Vec::new(),
            rows: Vec::new(),
            method: crate::db::sample::SampleMethod::AllRows,
        }
    };
    let kinds = identity_columns(plan, profile, &sample.columns, &sample.rows);
    let texts = sample.rows.iter().flatten().filter_map(|v| match v {
        Value::Text(t) => Some(t.as_str()),
        _ => None,
    });
    let mut masker = Masker::new(&plan.column_names(), &kinds, texts);
    let real = RealPeople::learn(db, &plan.table, plan, &kinds)?;
    let (privacy, prompt_profile) = match source {
        Source::Llm(client) => {
            let chosen = privacy::resolve(request.privacy, client);
            if chosen == Privacy::Mask {
                masker = masker.avoiding(privacy::column_values(db, &plan.table, plan, &kinds)?);
            }
            let shown = profile.map(|p| privacy::profile_for_prompt(p, chosen, &masker, &mut rng));
            (Some(chosen), shown)
        }
        Source::Offline => (None, None),
    };
    Ok(People {
        identity: kinds,
        real,
        privacy,
        masker,
        prompt_profile,
    })
}

/// Existing rows the offline generator learns from for a job of `rows` new rows: 100
/// per new row, so that whatever a new row may copy from (a city with its zip, a status
/// with its dates) turns up many times, between 1,000 and the 5,000 every job read before.
fn training_rows(rows: u64) -> usize {
    usize::try_from(rows.saturating_mul(100))
        .unwrap_or(usize::MAX)
        .clamp(1_000, 5_000)
}

/// Kept profiles live in rowsmith's data directory, beside the undo journal.
fn profile_cache(request: &GenerateRequest) -> Option<ProfileCache> {
    request
        .journal_path
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .or_else(|| crate::paths::data_dir().ok())
        .map(|dir| ProfileCache::new(&dir))
}

/// Learns the offline model from a random sample of the table and the true
/// maxima of its sequences (through their indexes).
fn learn_offline(
    db: &Database,
    plan: &Plan,
    profile: Option<&TableProfile>,
    parent_keys: &[Vec<Vec<Value>>],
    job_rows: u64,
    rng: &mut StdRng,
) -> Result<OfflineModel, DbError> {
    let sample = db.sample_rows(&plan.table, training_rows(job_rows), rng)?;
    let sequence_max: Vec<Option<i64>> = plan
        .columns
        .iter()
        .map(|c| {
            if !c.unique {
                return None;
            }
            let code = profile
                .and_then(|p| p.columns.iter().find(|pc| pc.name == c.name))
                .and_then(|pc| pc.code.as_ref());
            db.sequence_max(&plan.table, &c.name, code.map(|k| k.prefix.as_str()))
        })
        .collect();
    Ok(OfflineModel::learn(&Learning {
        plan,
        profile,
        columns: &sample.columns,
        rows: &sample.rows,
        parent_keys,
        sequence_max: &sequence_max,
    }))
}

/// Rows the gate learns from at most when the table is too big to read whole: enough for
/// dependencies and repeats, sized to the job so a 10-row run stays cheap.
fn gate_sample(rows: u64) -> usize {
    (rows.saturating_mul(100)).clamp(1_000, 5_000) as usize
}

/// Learns the realism gate: the whole table when small, else a random sample. Its own
/// random source, so that a seeded run makes the same rows with or without the gate.
fn learn_gate(
    db: &Database,
    plan: &Plan,
    profile: &TableProfile,
    table_rows: u64,
    request: &GenerateRequest,
) -> Result<Gate, DbError> {
    let k = if table_rows <= WHOLE_TABLE_ROWS {
        table_rows as usize
    } else {
        gate_sample(request.rows)
    };
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed ^ 0x6761_7465),
        None => StdRng::from_os_rng(),
    };
    let sample = db.sample_columns(&plan.table, &plan.column_names(), k, &mut rng)?;
    let existing = Existing::learn(plan, profile, &sample.rows);
    Ok(Gate::learn(plan, profile, &sample.rows, existing))
}

/// Opens the database and learns the table: plan, row count, profile and
/// parent keys.
pub(super) fn prepare(
    request: &GenerateRequest,
    source: &Source,
    stop: CancelFlag,
) -> Result<Shared, GenerateError> {
    let source_name = source.describe();
    let options = OpenOptions::read_write().busy_timeout(request.busy_timeout);
    let db = Database::open(&request.db_path, &options)?;
    let table = db.table_info(&request.table)?;
    table.require_generatable()?;
    // Before any rows are made (a model's cost included): rows this user may not add
    // are refused now, not after the first batch.
    if !request.dry_run {
        db.check_can_insert(&table)?;
    }
    let plan = Plan::new(&table);
    let mut rng = match request.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    // The profile's sample has a seed of its own, so a seed gives the same rows whether
    // the profile is computed or read back from the cache.
    let stats = table_stats(
        &*db,
        &table,
        &StatsRequest {
            options: ProfileOptions::for_job(request.rows),
            seed: request.seed.map(|_| rng.random()),
            cache: profile_cache(request).as_ref(),
        },
    )?;
    let table_rows = stats.rows;
    if table_rows == 0 && !request.from_schema {
        return Err(GenerateError::EmptyTable);
    }
    let profile = stats.profile;
    let mut parent_keys = Vec::with_capacity(plan.foreign_keys.len());
    // A step of a whole-database run has its parents chosen already.
    let lineage_keys = request.lineage.as_ref().map(|l| l.parent_keys());
    for fk in plan.foreign_keys.iter().filter(|_| lineage_keys.is_none()) {
        let parent = db.table_info(&fk.parent)?;
        let keys = db.sample_columns(&parent, &fk.parent_columns, PARENT_KEYS, &mut rng)?;
        let nullable = fk.columns.iter().all(|&i| !plan.columns[i].not_null);
        if keys.rows.is_empty() && !nullable {
            return Err(GenerateError::ParentEmpty {
                table: table.name.clone(),
                parent: parent.name.clone(),
                columns: fk
                    .columns
                    .iter()
                    .map(|&i| plan.columns[i].name.clone())
                    .collect(),
            });
        }
        parent_keys.push(keys.rows);
    }
    if let Some(keys) = lineage_keys {
        parent_keys = keys;
    }
    let text_allowed = plan
        .columns
        .iter()
        .map(|c| {
            profile
                .as_ref()
                .and_then(|p| p.columns.iter().find(|pc| pc.name == c.name))
                .is_some_and(|pc| pc.storage.text > 0)
        })
        .collect();
    let offline = match source {
        Source::Offline => Some(
            learn_offline(
                &db,
                &plan,
                profile.as_ref(),
                &parent_keys,
                request.rows,
                &mut rng,
            )
            .map_err(GenerateError::Database)?,
        ),
        Source::Llm(_) => None,
    };
    let people = people_for(&db, &plan, profile.as_ref(), table_rows, request, source)?;
    let mut gate = match (&profile, request.gate) {
        (Some(profile), GateMode::Realism) => Some(
            learn_gate(&db, &plan, profile, table_rows, request)
                .map_err(GenerateError::Database)?,
        ),
        _ => None,
    };
    // Keys of a whole-database run point at parents chosen for them, new ones included:
    // the values seen so far say nothing about them.
    if let (Some(gate), Some(lineage)) = (gate.as_mut(), &request.lineage) {
        let keys: Vec<usize> = plan
            .foreign_keys
            .iter()
            .flat_map(|fk| fk.columns.iter().copied())
            .collect();
        gate.free(&keys);
        // Values a parent gives go with the parent, not with the rest of the row as the
        // table's old rows paired them.
        let given: Vec<usize> = lineage
            .keys
            .iter()
            .flat_map(|k| k.rules.iter())
            .filter_map(|r| plan.index_of(r.child()))
            .collect();
        gate.free_dependencies(&given);
    }
    Ok(Shared {
        gate: Mutex::new(gate),
        feedback: Mutex::new(Vec::new()),
        lineage: request.lineage.clone(),
        offline: Mutex::new(offline),
        anchor: std::sync::OnceLock::new(),
        privacy: people.privacy,
        masker: people.masker,
        prompt_profile: people.prompt_profile,
        identity: people.identity,
        real_people: people.real,
        guard: Mutex::new(Guard::new(&plan)),
        db: Mutex::new(db),
        plan,
        profile,
        parent_keys,
        text_allowed,
        rng: Mutex::new(rng),
        table_rows,
        journal: Mutex::new(None),
        journal_path: request.journal_path.clone(),
        source_name,
        dry_run: request.dry_run,
        stop,
    })
}

impl Drop for Shared {
    /// The run is over however it ended (done, failed, cancelled, a panic): its operation
    /// takes no more batches, so undo may now take it back.
    fn drop(&mut self) {
        if let Ok(slot) = self.journal.get_mut()
            && let Some((journal, op)) = slot.as_ref()
        {
            let _ = journal.finish_operation(*op);
        }
    }
}
