//! Reading the user's database: its objects and their shape (catalog), pages for the row
//! browser, random samples, column profiles and the cheap facts (row counts, sequence
//! maxima, change stamps) the generator sizes its work by. Nothing here writes.

pub mod browse;
pub mod catalog;
pub mod lineage;
pub mod lookup;
pub mod profile;
pub mod sample;
pub mod table_state;
pub mod table_stats;
