//! Whole-database generation: every table (or a chosen few) in one run, parents before
//! children, children attached to their parents as often as today's data attaches them,
//! keeping what they copy from their parents, and undone as one.
//!
//! `graph` orders the tables, `plan` learns the run from the database, `depends` finds
//! what children keep from parents, `slots` chooses each new row's parents, `run` carries
//! the run out table by table through the same job a single table uses, `second_pass`
//! completes what needed every table's rows, and `outcome` says how it went.

pub mod depends;
pub mod graph;
pub mod levels;
pub mod outcome;
pub mod plan;
pub mod run;
mod second_pass;
mod slots;

pub use outcome::{Rollback, TableResult, WholeError, WholeEvent, WholeOutcome, WholeSummary};
pub use plan::{PlanError, Size, WholePlan};
pub use run::{WholeRequest, plan_whole, run_whole};
