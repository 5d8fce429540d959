//! The header row of an import file (API.md `template`).

use super::options::{IdentifyBy, ImportKind, ImportOptions};
use crate::error::Result;
use crate::schema::Schema;

/// The header of an import file for `kind` identified by `identify_by`: the identifier
/// column first, then every editable, not archived key in display order, the opt-out
/// fields `unsubscribeEmail` and `unsubscribeTexting` included. Columns are named by their
/// data keys, so a filled template imports with `autoMap`. A leads template leaves
/// `memberId` out (R-SCH-3). `identify_by` must fit `kind` (R-IMP-1).
pub fn template(kind: ImportKind, identify_by: IdentifyBy, schema: &Schema) -> Result<Vec<String>> {
    let options = ImportOptions {
        kind,
        ..ImportOptions::leads(identify_by)
    };
    let id = options.identifier()?.key();
    let mut out = vec![id.to_string()];
    out.extend(
        schema
            .keys()
            .iter()
            .filter(|d| d.key != id && !d.archived && d.editable())
            .map(|d| d.key.clone()),
    );
    Ok(out)
}
