//! R-CON, R-UNI, R-MU: any sequence of adds, boots, logins, blocks, deletes, merges,
//! unmerges, edits, verifications, small imports, MU limit changes and clock moves never
//! panics. After every step, MU is exactly the number of visible, unblocked contacts with
//! contact info (R-MU-1) and stays within a set limit (R-MU-2); a step that fails changes
//! nothing. And the same steps on another book give the same book after every step, ids
//! included (R-UNI-5: "the same inputs give the same surviving id and values"), so that no
//! outcome hangs on a hash map's order.
use std::io::Cursor;

use rolodex::{Boot, ContactBook, IdentifyBy, ImportOptions, ImportSource, MergeChoices, NewLead};
use serde_json::json;

/// Runs the steps on a new book, checking the invariants after each; returns the book's
/// state after each step.
fn run(data: &[u8]) -> Vec<String> {
    let mut trace = Vec::new();
    let book = ContactBook::in_memory();
    let mut clock = super::start();
    book.set_clock(Some(clock)).unwrap();
    let mut ids: Vec<String> = Vec::new();
    let mut merges: Vec<String> = Vec::new();
    let mut limit: Option<u64> = None;
    let pick = |v: &Vec<String>, b: u8| -> String {
        if v.is_empty() {
            "c_999999999999".to_string()
        } else {
            v[usize::from(b) % v.len()].clone()
        }
    };
    for step in data.chunks(3).take(40) {
        let (op, a, b) = (
            step[0] % 15,
            step.get(1).copied().unwrap_or(0),
            step.get(2).copied().unwrap_or(0),
        );
        let email = format!("u{}@x.com", a % 6);
        let mobile = format!("+82 10-2000-{:04}", b % 6);
        let before = super::state(&book);
        let ok = match op {
            0 => book
                .add_lead(NewLead {
                    email: (b & 1 == 0).then(|| email.clone()),
                    mobile_number: (b & 2 == 0 || b & 1 == 1).then(|| mobile.clone()),
                    name: Some(format!("N{a}")),
                    ..NewLead::default()
                })
                .map(|c| ids.push(c.id))
                .is_ok(),
            1 => book
                .boot(Boot {
                    contact_id: Some(pick(&ids, a)),
                    ..Boot::default()
                })
                .map(|c| ids.push(c.id))
                .is_ok(),
            2 => {
                let mut profile = serde_json::Map::new();
                if b & 1 == 0 {
                    profile.insert("email".into(), json!(email));
                } else {
                    profile.insert("mobileNumber".into(), json!(mobile));
                }
                book.boot(Boot {
                    profile,
                    ..Boot::default()
                })
                .map(|c| ids.push(c.id))
                .is_ok()
            }
            3 => {
                let mut profile = serde_json::Map::new();
                if b & 1 == 0 {
                    profile.insert("email".into(), json!(email));
                }
                book.boot(Boot {
                    contact_id: (b & 2 == 0).then(|| pick(&ids, a)),
                    member_id: Some(format!("m{}", b % 4)),
                    profile,
                })
                .map(|c| ids.push(c.id))
                .is_ok()
            }
            4 => book.block(vec![pick(&ids, a)]).is_ok(),
            5 => book.unblock(vec![pick(&ids, a)]).is_ok(),
            6 => book.delete(vec![pick(&ids, a)]).is_ok(),
            7 => book
                .merge(&pick(&ids, a), &pick(&ids, b), &MergeChoices::new())
                .map(|r| merges.push(r.merge_id))
                .is_ok(),
            8 => book.unmerge(&pick(&merges, a)).is_ok(),
            9 => {
                let l = (a % 3 != 0).then_some(u64::from(b % 6));
                let r = book.set_mu_limit(l);
                if r.is_ok() {
                    limit = l;
                }
                r.is_ok()
            }
            10 => book
                .update(&pick(&ids, a), &json!({"profile.email": email, "profile.mobileNumber": if b & 1 == 0 { json!(mobile) } else { json!(null) }}))
                .is_ok(),
            11 => book.verify(&pick(&ids, a), if b & 1 == 0 { "profile.email" } else { "profile.mobileNumber" }).is_ok(),
            12 => {
                let csv = format!(
                    "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n{email},{mobile},false,true\nu{}@x.com,,true,false\n",
                    b % 6
                );
                let mut o = ImportOptions::leads(IdentifyBy::Email);
                o.auto_map = true;
                o.file_name = Some(format!("f{a}.csv"));
                book.import_csv(ImportSource::reader(Cursor::new(csv.into_bytes())), o, None)
                    .is_ok()
            }
            13 => {
                clock += chrono::TimeDelta::minutes(i64::from(a) * 3);
                book.set_clock(Some(clock)).unwrap();
                true
            }
            _ => book.delete_by_member_id(&format!("m{}", a % 4)).is_ok(),
        };
        if !ok {
            assert_eq!(
                super::state(&book),
                before,
                "op {op} failed and changed the book"
            );
        }
        let all = super::everyone(&book);
        let counted = all.iter().filter(|c| c.counts_for_mu()).count() as u64;
        assert_eq!(
            book.mu_count().unwrap(),
            counted,
            "op {op}: MU is not the visible count"
        );
        if let Some(l) = limit {
            assert!(
                counted <= l,
                "op {op}: {counted} visible over the limit {l}"
            );
        }
        trace.push(super::state(&book));
    }
    trace
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let first = run(data);
    assert_eq!(first, run(data), "the same steps gave another book");
}
