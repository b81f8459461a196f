//! Things the user should hear once during a run that do not stop it: a parameter rowsmith
//! left out, a weaker answer format a service needed, a model that is about to shut down.
//!
//! The client collects them (each distinct notice once per client) and the job passes them
//! on: stderr in the CLI, a toast and the message log in the app.

use std::collections::HashSet;
use std::fmt;

/// One thing to tell the user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Notice {
    /// A configured temperature was not sent because the model refuses it.
    TemperatureNotSent { model: String },
    /// The configured reasoning effort is not one the model accepts; another was sent.
    EffortChanged {
        model: String,
        asked: String,
        sent: String,
    },
    /// The configured reasoning effort was not sent: the model takes none.
    EffortNotSent { model: String, asked: String },
    /// The service refused an optional parameter; it is left out for the rest of the run.
    ParameterDropped {
        provider: String,
        model: String,
        param: String,
    },
    /// The service refused an answer format; a weaker one is used for the rest of the run.
    FormatChanged {
        provider: String,
        to: &'static str,
        reason: String,
    },
    /// A request failed in a way worth another attempt, which is being made.
    Retrying { what: String, attempt: u32, of: u32 },
    /// The service is rate-limiting: fewer requests at a time from now on.
    SlowedDown { provider: String, in_flight: usize },
    /// The provider publishes a shutdown date for the model, and it is near or past.
    ModelShutsDown {
        model: String,
        date: String,
        days_left: i64,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TemperatureNotSent { model } => write!(
                f,
                "{model} accepts only its default temperature, so the configured temperature was not sent."
            ),
            Self::EffortChanged { model, asked, sent } => write!(
                f,
                "{model} does not accept reasoning_effort \"{asked}\"; sent \"{sent}\" instead."
            ),
            Self::EffortNotSent { model, asked } => write!(
                f,
                "{model} takes no reasoning_effort, so \"{asked}\" was not sent."
            ),
            Self::ParameterDropped {
                provider,
                model,
                param,
            } => write!(
                f,
                "{provider} refused the optional parameter {param} for {model}; it is left out for the rest of this run."
            ),
            Self::FormatChanged {
                provider,
                to,
                reason,
            } => write!(
                f,
                "{provider} refused the answer format ({reason}); using {to} instead. Every value is still checked before insert."
            ),
            Self::Retrying { what, attempt, of } => {
                write!(f, "{what}; asking again (attempt {attempt} of {of}).")
            }
            Self::SlowedDown {
                provider,
                in_flight,
            } => write!(
                f,
                "{provider} is rate-limiting requests (HTTP 429), so rowsmith slowed down to {in_flight} request{} at a time; it speeds up again when the limit allows.",
                crate::output::plural(*in_flight as u64, "", "s")
            ),
            Self::ModelShutsDown {
                model,
                date,
                days_left,
            } => {
                if *days_left < 0 {
                    write!(
                        f,
                        "The model {model} was shut down on {date}. Choose another with --model or the model key of the config file."
                    )
                } else {
                    write!(
                        f,
                        "The model {model} shuts down on {date} (in {days_left} day{}). Choose another with --model or the model key of the config file.",
                        crate::output::plural(days_left.unsigned_abs(), "", "s")
                    )
                }
            }
        }
    }
}

/// Notices waiting to be read, each told once.
#[derive(Debug, Default)]
pub(crate) struct Board {
    told: HashSet<Notice>,
    pending: Vec<Notice>,
}

impl Board {
    pub(crate) fn post(&mut self, notice: Notice) {
        if self.told.insert(notice.clone()) {
            tracing::info!("{notice}");
            self.pending.push(notice);
        }
    }

    pub(crate) fn take(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_is_told_once() {
        let mut board = Board::default();
        let n = Notice::TemperatureNotSent {
            model: "gpt-6.1-terra".into(),
        };
        board.post(n.clone());
        board.post(n.clone());
        assert_eq!(board.take(), vec![n.clone()]);
        board.post(n);
        assert!(board.take().is_empty());
    }
}
