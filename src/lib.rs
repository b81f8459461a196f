//! rowsmith: forge realistic synthetic rows for SQLite tables.
//!
//! The library holds every piece of logic; the binary (`src/main.rs`) and the
//! terminal app only parse input, call into it and present results.

pub mod ask;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod exit;
pub mod generate;
pub mod keychord;
pub mod llm;
pub mod log;
pub mod output;
pub mod paths;
pub mod transferred;
pub mod tui;
