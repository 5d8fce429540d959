//! R-MU-2 and R-MU-5 against their text: "a manager's write (import, hand-added lead) never
//! hides a visible contact: new contacts that do not fit are created hidden, in file
//! order, and reported as hidden", and "the limit leaves room for 3 more, an import brings 6
//! new rows → 6 created, the first 3 visible, 3 hidden". The limit, the contacts already
//! there and the number of new rows come from the input.
use std::io::Cursor;

use rolodex::{IdentifyBy, ImportOptions, ImportSource, NewLead};

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let b = |k: usize| data.get(k).copied().unwrap_or(0);
    let book = super::book_with(&[]);
    let existing = usize::from(b(0) % 6);
    for i in 0..existing {
        book.add_lead(NewLead::email(format!("old{i}@x.com")))
            .unwrap();
    }
    let limit = existing as u64 + u64::from(b(1) % 4);
    book.set_mu_limit(Some(limit)).unwrap();
    let before: Vec<String> = super::everyone(&book).into_iter().map(|c| c.id).collect();
    let room = (limit - existing as u64) as usize;
    let rows = usize::from(b(2) % 8);
    let mut csv = String::from("profile.email,unsubscribeEmail,unsubscribeTexting\n");
    for i in 0..rows {
        csv += &format!("new{i}@x.com,false,false\n");
    }
    let mut o = ImportOptions::leads(IdentifyBy::Email);
    o.auto_map = true;
    let report = book
        .import_csv(ImportSource::reader(Cursor::new(csv.into_bytes())), o, None)
        .unwrap();
    assert_eq!(report.created as usize, rows, "{report:?}");
    assert_eq!(
        report.hidden as usize,
        rows.saturating_sub(room),
        "{report:?}"
    );
    assert_eq!(
        report.mu_after,
        (existing + rows.min(room)) as u64,
        "{report:?}"
    );
    let all = super::everyone(&book);
    for c in &all {
        let want_hidden = match c.email().and_then(|e| e.strip_prefix("new")) {
            // The new rows in file order: the first `room` fit.
            Some(rest) => rest.split('@').next().unwrap().parse::<usize>().unwrap() >= room,
            None => false,
        };
        assert_eq!(c.hidden, want_hidden, "{} with room for {room}", c.id);
    }
    assert!(before
        .iter()
        .all(|id| all.iter().any(|c| &c.id == id && !c.hidden)));
    // A hand-added lead at the limit is created hidden too, and hides nobody.
    if rows >= room {
        let c = book.add_lead(NewLead::email("late@x.com")).unwrap();
        assert!(
            c.hidden,
            "a hand-added lead that does not fit is created hidden"
        );
        assert_eq!(book.mu_count().unwrap(), limit);
    }
}
