//! Whole-database generation: every table (or a chosen few) in one run, parents before
//! children, children attached to their parents as often as today's data attaches them,
//! keeping what they copy from their parents, and undone as one.
//!
//! `graph` orders the tables, `plan` learns the run from the database, `depends` finds
//! what children keep from parents, and `run` carries it out table by table through the
//! same job a single table uses.

pub mod depends;
pub mod graph;
pub mod plan;
pub mod run;

pub use plan::{PlanError, Size, WholePlan};
pub use run::{
    Rollback, TableResult, WholeError, WholeEvent, WholeOutcome, WholeRequest, WholeSummary,
    plan_whole, run_whole,
};
