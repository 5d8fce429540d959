pub use rolodex_core::*;
