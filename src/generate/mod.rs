//! Generation: from "add N rows to this table" to rows safely inserted.
//!
//! `job` runs the flow (sample, profile, ask, validate, insert, top up) off
//! the caller's thread and reports over a channel; `plan`, `prompt`, `parse`
//! and `validate` are its pure parts.

pub mod job;
pub mod parse;
pub mod plan;
pub mod prompt;
pub mod validate;
