//! What of the table's rows leaves the machine in a model request: the `privacy` setting,
//! which columns identify a person, and the made-up values that stand in for them.

mod identity;
mod real_people;
mod surrogate;

pub use crate::config::Privacy;
pub use identity::{Identity, identity_columns, identity_of_sample};
pub use real_people::{RealPeople, RealPerson, column_values};
pub use surrogate::Masker;

use crate::db::profile::TableProfile;
use crate::llm::Client;

/// The privacy a run uses: the one configured, else `mask` for a service elsewhere and
/// `samples` for a server on this machine (the rows never leave it).
pub fn resolve(configured: Option<Privacy>, client: &Client) -> Privacy {
    configured.unwrap_or(if is_local(client.base_url()) {
        Privacy::Samples
    } else {
        Privacy::Mask
    })
}

/// Whether a base URL points at this machine: a loopback address or `localhost`.
pub fn is_local(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url.trim()) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// What a request carries of the table's rows, for the job's status: "11 masked sample
/// rows", "no rows (schema only)".
pub fn carried(privacy: Privacy, rows: usize) -> String {
    let rows_word = crate::output::plural(rows as u64, "row", "rows");
    match privacy {
        Privacy::Samples => format!("{rows} sample {rows_word}"),
        Privacy::Mask => format!("{rows} masked sample {rows_word}"),
        Privacy::Schema => "no rows (schema only)".into(),
    }
}

/// The profile as a request may show it: under `mask`, the identifying columns' frequent
/// values left out and their examples made up; under `schema`, no value of any row (shapes,
/// ranges, shares of NULL and lengths stay).
pub fn profile_for_prompt<R: rand::Rng + ?Sized>(
    profile: &TableProfile,
    privacy: Privacy,
    masker: &Masker,
    rng: &mut R,
) -> TableProfile {
    let mut shown = profile.clone();
    for column in &mut shown.columns {
        let identifying = masker.masks(&column.name);
        if privacy != Privacy::Samples && identifying {
            // A card number's minimum is a real card number; a code's highest number a
            // real person's.
            column.numeric = None;
            column.code = None;
        }
        match privacy {
            Privacy::Samples => {}
            Privacy::Mask if identifying => {
                column.top_values.clear();
                for shape in &mut column.shapes {
                    shape.example = masker.example(&column.name, &shape.example, rng);
                }
            }
            Privacy::Mask => {}
            Privacy::Schema => {
                column.top_values.clear();
                for shape in &mut column.shapes {
                    shape.example.clear();
                }
            }
        }
    }
    shown
}

/// Rows of a table known only by a few of its rows (no profile), with their identifying
/// values made up: which columns identify someone is judged from the names and these
/// rows' values. For the schema shown to `ask`, and the parent rows a whole-database run
/// shows a model.
pub fn mask_sample<R: rand::Rng + ?Sized>(
    columns: &[String],
    rows: &[Vec<rusqlite::types::Value>],
    rng: &mut R,
) -> Vec<Vec<rusqlite::types::Value>> {
    use rusqlite::types::Value;
    let kinds: Vec<_> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let texts: Vec<&str> = rows
                .iter()
                .filter_map(|r| match r.get(i) {
                    Some(Value::Text(t)) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            identity_of_sample(name, &texts)
        })
        .collect();
    let texts = rows.iter().flatten().filter_map(|v| match v {
        Value::Text(t) => Some(t.as_str()),
        _ => None,
    });
    Masker::new(columns, &kinds, texts).mask_rows(columns, rows, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_localhost_are_local_everything_else_is_remote() {
        for url in [
            "http://127.0.0.1:8089/v1",
            "http://127.8.0.3/v1",
            "http://[::1]:11434/v1",
            "http://localhost:11434/v1",
            "http://LOCALHOST./v1",
            "http://llm.localhost/v1",
        ] {
            assert!(is_local(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "https://api.anthropic.com",
            "http://192.168.1.20:8080/v1",
            "http://10.0.0.5/v1",
            "http://localhost.example.com/v1",
            "not a url",
        ] {
            assert!(!is_local(url), "{url}");
        }
    }
}
