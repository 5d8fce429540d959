//! Rolodex core: the customer-contacts domain of a customer-messaging platform.
//!
//! One channel's contact book: a typed profile schema, value parsing from CSV text, a filter
//! engine, bulk CSV import and export, lead/member unification and managed-user limits, over a
//! storage trait.
#![deny(missing_docs)]

pub mod contact;
pub mod error;
pub mod filter;
pub mod schema;
pub mod text;
pub mod value;

pub use contact::{Contact, Verified};
pub use error::{Error, ErrorKind, Result};
pub use filter::{
    compile, compile_query, search_scan, CompiledQuery, EvalCtx, Filter, Include, Op, Page, Plan,
    Query, QuickSearch, SortKey, SortOrder, SortSpec, Terms,
};
pub use schema::{KeyDef, Schema};
pub use value::{parse_value, FieldType, Value};
