//! Rolodex core: the customer-contacts domain of a customer-messaging platform.
//!
//! One channel's contact book: a typed profile schema, value parsing from CSV text, a filter
//! engine, bulk CSV import and export, lead/member unification and managed-user limits, over a
//! storage trait.
#![deny(missing_docs)]

pub mod access;
pub mod book;
pub mod contact;
pub mod error;
pub mod export;
pub mod filter;
pub mod identity;
pub mod import;
pub mod merge;
pub(crate) mod mu;
pub mod schema;
pub mod store;
pub mod text;
pub(crate) mod tx;
pub mod value;

pub use access::{ActivityEntry, ActivityQuery, Manager, Permission, Role};
pub use book::{ContactBook, Segment, Target, MAX_EXPORT_INTERVAL_SECS};

pub use contact::{
    Boot, BulkFailure, BulkResult, Contact, ContactState, Medium, NewLead, Profile, Verified,
};
pub use error::{Error, ErrorKind, Result};
pub use export::{write_export, CsvExporter, ExportOptions, ExportSummary, ProtectedZipWriter};
pub use filter::{
    compile, compile_query, search_scan, CompiledQuery, EvalCtx, Filter, Include, Op, Page, Plan,
    Query, QuickSearch, SortKey, SortOrder, SortSpec, TermList, Terms,
};
pub use import::{
    preview_csv, template, Cells, EmptyCells, Failure, FailureLogWriter, IdentifyBy, ImportKind,
    ImportOptions, ImportReader, ImportReport, ImportSource, Preview, Progress, RowFailure,
    RowPatch,
};
pub use merge::{MergeChoices, MergeResult, Side};
pub use schema::{KeyDef, Schema};
pub use store::{MemoryStore, Store};
pub use value::{parse_value, FieldType, Value};
