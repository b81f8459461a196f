//! Every integration test in one crate: the library and its dependencies are linked once,
//! not once per test file. Each module is what a `tests/*.rs` file was.
#![allow(clippy::unwrap_used)] // a test that fails should fail loudly

#[path = "../common/mod.rs"]
mod common;
#[path = "../llm_support/mod.rs"]
mod llm_support;

mod catalog;
mod cli;
mod config_load;
mod engines;
mod gate;
mod generate;
mod generate_job;
mod generate_schemas;
mod llm_anthropic;
mod llm_compatible;
mod llm_live;
mod llm_local;
mod llm_openai;
mod llm_preview;
mod llm_rules;
mod llm_select;
mod llm_world;
mod odd_data;
mod offline;
mod offline_text;
mod pg_catalog;
mod pg_query_gate;
mod pg_transfer;
mod pg_write;
mod privacy;
mod profile;
mod profile_cache;
mod query_cli;
mod query_gate;
mod query_run;
mod sampling;
mod show_prompt;
mod transfer_cli;
mod transfer_lib;
mod tui_app;
mod tui_pty;
mod tui_whole;
mod undo;
mod undo_runs;
mod whole;
mod writer;
