//! rowsmith's own files, never the user's database: the undo journal, the query history
//! and the kept table profiles, all in the data directory.

pub mod history;
pub mod journal;
pub mod profile_cache;
