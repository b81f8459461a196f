//! The terminal app: `rowsmith [DB]`.
//!
//! `app` holds the state and the pure `update`; `run` owns the terminal and
//! the event loop; `worker` owns the database connection on its own thread;
//! `view` draws; `keys` is the one key map behind handling, help and hints.

pub mod app;
pub mod grid;
pub mod keys;
pub mod layout;
pub mod line;
pub mod message;
pub mod modal;
pub mod paths;
pub mod queries;
pub mod query;
pub mod query_worker;
pub mod run;
pub mod theme;
pub mod view;
pub mod whole;
pub mod whole_worker;
pub mod worker;

pub use run::{Launch, run};
