//! Warning before a model goes away.
//!
//! OpenAI publishes each model's shutdown date: "call the List models endpoint (GET
//! /v1/models) and check each model's optional shutdown_date field ... the field is also
//! available from the Retrieve a model endpoint" (developers.openai.com/api/docs/
//! deprecations). rowsmith asks once a day per endpoint and model, keeps the answer in its
//! data directory, and warns when the date is within [`WARN_DAYS`] or past. The check runs
//! beside the first request with a short timeout; it never delays or fails a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::client::Client;
use super::notice::Notice;
use super::provider::ProviderKind;

/// Warn when the shutdown is this close (or past).
pub const WARN_DAYS: i64 = 30;
/// The longest the check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// The cache file in rowsmith's data directory.
pub const CACHE_FILE: &str = "model-lifecycle.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    /// "<base url> <model>" -> what the provider said, and when.
    models: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Days since 1970-01-01 of the check.
    checked_day: i64,
    shutdown_date: Option<String>,
}

/// Days since 1970-01-01, today (UTC).
pub fn today() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400) as i64
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn day_of(date: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some(date.signed_duration_since(epoch).num_days())
}

/// The notice for a model with `shutdown_date`, if it is near or past on `today`.
pub fn notice_for(model: &str, shutdown_date: &str, today: i64) -> Option<Notice> {
    let days_left = day_of(shutdown_date)? - today;
    (days_left <= WARN_DAYS).then(|| Notice::ModelShutsDown {
        model: model.to_string(),
        date: shutdown_date.trim().to_string(),
        days_left,
    })
}

/// Checks the client's model (OpenAI only; other providers publish no date) and posts a
/// notice on the client when it is near or past its shutdown. `cache_dir` keeps one
/// answer a day; without it the provider is asked every time.
pub async fn check(client: &Client, cache_dir: Option<&Path>) {
    if client.kind() != ProviderKind::OpenAi {
        return;
    }
    let key = format!("{} {}", client.base_url(), client.model());
    let today = today();
    let path = cache_dir.map(|d| d.join(CACHE_FILE));
    let mut cache: Cache = path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let cached = cache
        .models
        .get(&key)
        .filter(|e| e.checked_day == today)
        .cloned();
    let shutdown_date = match cached {
        Some(entry) => entry.shutdown_date,
        None => {
            let Ok(Some(date)) = tokio::time::timeout(
                CHECK_TIMEOUT,
                super::openai::shutdown_date(client, CHECK_TIMEOUT),
            )
            .await
            else {
                return;
            };
            cache.models.insert(
                key,
                Entry {
                    checked_day: today,
                    shutdown_date: date.clone(),
                },
            );
            if let Some(path) = &path
                && let Ok(bytes) = serde_json::to_vec_pretty(&cache)
            {
                // Written beside and renamed, so a reader never sees half a file; a cache
                // that cannot be written only means asking again next time.
                let partial = path.with_extension("json.partial");
                if std::fs::write(&partial, bytes).is_ok() {
                    let _ = std::fs::rename(&partial, path);
                }
            }
            date
        }
    };
    if let Some(notice) = shutdown_date.and_then(|d| notice_for(client.model(), &d, today)) {
        client.notify(notice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_within_thirty_days_and_after() {
        let today = day_of("2026-12-04").unwrap();
        let n = notice_for("gpt-5-mini", "2026-12-11", today).unwrap();
        assert_eq!(
            n.to_string(),
            "The model gpt-5-mini shuts down on 2026-12-11 (in 7 days). Choose another with --model or the model key of the config file."
        );
        assert!(notice_for("gpt-5.1", "2027-04-01", today).is_none());
        let past = notice_for("o3", "2026-10-23", today).unwrap();
        assert!(past.to_string().contains("was shut down on 2026-10-23"));
        assert!(notice_for("x", "soon", today).is_none());
    }
}
