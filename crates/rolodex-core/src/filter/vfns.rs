//! The value functions the filter uses (R-VAL-2, R-VAL-3, R-VAL-5), in one place so the
//! filter has a single seam onto `crate::value`.

pub(crate) use crate::value::{
    check_json_number, national_format_digits, national_number_digits, normalize_email,
    normalize_phone, parse_date, parse_datetime,
};
