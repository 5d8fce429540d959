//! Managed users (R-MU-1..6) against every event that moves the count or the room,
//! through the public API only.

use std::io::Cursor;

use rolodex::{Boot, Contact, ContactBook, ImportOptions, ImportSource, MergeChoices, NewLead};
use serde_json::json;

mod support;
use support::{all, book_at, t};

fn key(
    c: &Contact,
) -> (
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
    String,
) {
    (c.last_seen_at, c.created_at, c.id.clone())
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn import(book: &ContactBook, text: &str, members: bool) {
    let mut o = if members {
        ImportOptions::members()
    } else {
        ImportOptions::leads(rolodex::IdentifyBy::Email)
    };
    o.auto_map = true;
    o.file_name = Some("f.csv".into());
    let _ = book.import_csv(
        ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
        o,
        None,
    );
}

/// Random event sequences (adds, boots, logins, edits, verifies, deletes, blocks, unblocks,
/// merges, unmerges, limits, imports, tags), checking after each event: R-MU-1 (MU = visible,
/// unblocked contacts with contact info), R-MU-2 ("the visible MU never exceeds the limit";
/// "a manager's write ... never hides a visible contact"; a boot hides "the visible contact
/// with the oldest `lastSeenAt`"), R-MU-3 (freed room "is filled from the most recently seen
/// hidden contacts") and R-CON-6 (a blocked contact is out of MU, never hidden).
#[test]
fn r_mu_fuzz_invariants() {
    let mut failures: Vec<String> = Vec::new();
    for seed in 0..300u64 {
        let book = book_at("2025-06-01T00:00:00Z");
        let mut rng = Rng(seed * 7919 + 13);
        let mut now = t("2025-06-01T00:00:00Z");
        let mut limit: Option<u64> = None;
        let mut merges: Vec<String> = Vec::new();
        for step in 0..60 {
            now += chrono::TimeDelta::minutes([0i64, 0, 1, 45][rng.below(4) as usize]);
            book.set_clock(Some(now)).unwrap();
            let before = all(&book);
            let pick = |r: &mut Rng| -> Option<String> {
                if before.is_empty() {
                    None
                } else {
                    Some(before[r.below(before.len() as u64) as usize].id.clone())
                }
            };
            let op = rng.below(17);
            let e = format!("e{}@x.com", rng.below(8));
            let m = format!("m{}", rng.below(5));
            let mut manager = true;
            let mut visitor: Option<String> = None;
            let name: String;
            match op {
                0 => {
                    name = format!("addLead {e}");
                    let _ = book.add_lead(NewLead::email(&e));
                }
                1 => {
                    manager = false;
                    let id = pick(&mut rng);
                    name = format!("plain boot {id:?}");
                    visitor = id.clone();
                    if let Some(id) = id {
                        let _ = book.boot(Boot {
                            contact_id: Some(id),
                            ..Boot::default()
                        });
                    }
                }
                2 => {
                    manager = false;
                    name = "anon boot".into();
                    let c = book.boot(Boot::default()).unwrap();
                    visitor = Some(c.id);
                }
                3 => {
                    manager = false;
                    let id = pick(&mut rng);
                    name = format!("boot {id:?} with email {e}");
                    let c = book
                        .boot(Boot {
                            contact_id: id,
                            profile: json!({ "email": e }).as_object().unwrap().clone(),
                            ..Boot::default()
                        })
                        .unwrap();
                    visitor = Some(c.id);
                }
                4 => {
                    manager = false;
                    let id = if rng.below(2) == 0 {
                        pick(&mut rng)
                    } else {
                        None
                    };
                    name = format!("login {id:?} as {m}");
                    let c = book
                        .boot(Boot {
                            contact_id: id,
                            member_id: Some(m.clone()),
                            ..Boot::default()
                        })
                        .unwrap();
                    visitor = Some(c.id);
                }
                5 => {
                    let id = pick(&mut rng);
                    name = format!("update {id:?} email {e}");
                    if let Some(id) = id {
                        let _ = book.update(&id, &json!({ "profile.email": e }));
                    }
                }
                6 => {
                    let id = pick(&mut rng);
                    name = format!("update {id:?} clear email");
                    if let Some(id) = id {
                        let _ = book.update(&id, &json!({ "profile.email": null }));
                    }
                }
                7 => {
                    let id = pick(&mut rng);
                    name = format!("verify {id:?}");
                    if let Some(id) = id {
                        let _ = book.verify(&id, "profile.email");
                    }
                }
                8 => {
                    let id = pick(&mut rng);
                    name = format!("delete {id:?}");
                    if let Some(id) = id {
                        let _ = book.delete(vec![id]);
                    }
                }
                9 => {
                    let id = pick(&mut rng);
                    name = format!("block {id:?}");
                    if let Some(id) = id {
                        let _ = book.block(vec![id]);
                    }
                }
                10 => {
                    let id = pick(&mut rng);
                    name = format!("unblock {id:?}");
                    if let Some(id) = id {
                        let _ = book.unblock(vec![id]);
                    }
                }
                11 => {
                    let (a, b) = (pick(&mut rng), pick(&mut rng));
                    name = format!("merge {a:?} {b:?}");
                    if let (Some(a), Some(b)) = (a, b) {
                        if let Ok(r) = book.merge(&a, &b, &MergeChoices::new()) {
                            merges.push(r.merge_id);
                        }
                    }
                }
                12 => {
                    name = "unmerge".into();
                    if !merges.is_empty() {
                        let i = rng.below(merges.len() as u64) as usize;
                        let _ = book.unmerge(&merges[i]);
                    }
                }
                13 => {
                    manager = false;
                    limit = if rng.below(5) == 0 {
                        None
                    } else {
                        Some(rng.below(6))
                    };
                    name = format!("limit {limit:?}");
                    book.set_mu_limit(limit).unwrap();
                }
                14 => {
                    let e2 = format!("e{}@x.com", rng.below(8));
                    name = format!("member import {m} {e} / {e2}");
                    import(
                        &book,
                        &format!(
                            "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\n{m},{e},false,false\nm{},{e2},false,false\n",
                            rng.below(5)
                        ),
                        true,
                    );
                }
                15 => {
                    name = format!("lead import {e}");
                    import(
                        &book,
                        &format!("profile.email,unsubscribeEmail,unsubscribeTexting\n{e},false,false\nn{}@x.com,false,false\n", rng.below(8)),
                        false,
                    );
                }
                _ => {
                    let id = pick(&mut rng);
                    name = format!("tag {id:?}");
                    if let Some(id) = id {
                        let _ = book.add_tags(vec![id], &["vip"]);
                    }
                }
            }
            let after = all(&book);
            let mu = book.mu_count().unwrap();
            let counted = after.iter().filter(|c| c.counts_for_mu()).count() as u64;
            let ctx = format!("seed {seed} step {step} op {name}");
            if mu != counted {
                failures.push(format!("{ctx}: mu {mu} != counted {counted}"));
            }
            if let Some(l) = limit {
                if mu > l {
                    failures.push(format!("{ctx}: mu {mu} > limit {l}"));
                }
                let waiting = after
                    .iter()
                    .any(|c| c.hidden && !c.blocked && c.has_contact_info());
                if waiting && mu < l {
                    failures.push(format!("{ctx}: room {} left while hidden wait", l - mu));
                }
            }
            for c in &after {
                if c.blocked && c.hidden {
                    failures.push(format!("{ctx}: {} blocked and hidden", c.id));
                }
            }
            let was_visible: Vec<&Contact> = before.iter().filter(|c| c.counts_for_mu()).collect();
            let newly_hidden: Vec<&Contact> = was_visible
                .iter()
                .copied()
                .filter(|b| after.iter().any(|a| a.id == b.id && a.hidden))
                .collect();
            if manager && !newly_hidden.is_empty() {
                failures.push(format!(
                    "{ctx}: manager write hid visible {:?}",
                    newly_hidden.iter().map(|c| &c.id).collect::<Vec<_>>()
                ));
            }
            if !manager && op != 13 && !newly_hidden.is_empty() {
                // A boot hides the least recently seen visible contacts other than the visitor.
                let mut others: Vec<&Contact> = was_visible
                    .iter()
                    .copied()
                    .filter(|c| Some(&c.id) != visitor.as_ref())
                    .collect();
                others.sort_by_key(|c| key(c));
                let want: Vec<&String> = others
                    .iter()
                    .take(newly_hidden.len())
                    .map(|c| &c.id)
                    .collect();
                let mut got: Vec<&Contact> = newly_hidden.clone();
                got.sort_by_key(|c| key(c));
                let got: Vec<&String> = got.iter().map(|c| &c.id).collect();
                if want != got {
                    failures.push(format!(
                        "{ctx}: boot hid {got:?}, oldest visible were {want:?}"
                    ));
                }
            }
        }
    }
    failures.truncate(40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// R-CON-2 ("The contact JSON shows ... `hidden`") with R-MU-3 ("room freed by ... a
/// unification is filled from the most recently seen hidden contacts"): a hidden member that
/// an edit unifies with a visible lead takes the room the lead frees; what `update` returns
/// must say what is stored.
#[test]
fn r_mu_3_update_that_unifies_reports_the_stored_hidden_flag() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m = b
        .boot(Boot {
            member_id: Some("m1".into()),
            ..Boot::default()
        })
        .unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let lead = b.add_lead(NewLead::email("l@x.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&m.id).unwrap().hidden);
    assert!(!b.get(&lead.id).unwrap().hidden);
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    let returned = b
        .update(&m.id, &json!({"profile.email": "l@x.com"}))
        .unwrap();
    let stored = b.get(&m.id).unwrap();
    assert_eq!(b.mu_count().unwrap(), 1);
    assert!(
        !stored.hidden,
        "the lead's room goes to the only hidden contact"
    );
    assert_eq!(
        returned.hidden, stored.hidden,
        "update returned {returned:?}"
    );
}

/// R-MU-2 at a scale where the MU ledgers drop and rebuild their stale entries (a boot
/// leaves its old place in a ledger to be dropped later; a rebuild comes once stale places
/// outnumber the contacts and a few thousand): through 14,000 random boots of 3,000
/// contacts under a limit that hides 300, the hidden contacts are always exactly the 300
/// least recently seen, and the count is the limit.
#[test]
fn r_mu_2_hidden_stay_the_least_recently_seen_through_many_boots() {
    let book = book_at("2025-03-01T12:00:00Z");
    let n = 3000;
    let ids: Vec<String> = (0..n)
        .map(|i| {
            book.add_lead(NewLead {
                email: Some(format!("u{i}@example.com")),
                ..NewLead::default()
            })
            .unwrap()
            .id
        })
        .collect();
    let limit = n - 300;
    book.set_mu_limit(Some(limit as u64)).unwrap();
    let mut clock = t("2025-03-02T00:00:00Z");
    let mut rng = Rng(11);
    let check = |book: &ContactBook| {
        let mut cs = all(book);
        assert_eq!(cs.len(), n);
        cs.sort_by_key(key);
        for (i, c) in cs.iter().enumerate() {
            assert_eq!(c.hidden, i < n - limit, "{} at {i} of the seen order", c.id);
        }
        assert_eq!(book.mu_count().unwrap(), limit as u64);
    };
    check(&book);
    for round in 0..14 {
        for _ in 0..1000 {
            clock += chrono::TimeDelta::milliseconds(1);
            book.set_clock(Some(clock)).unwrap();
            // Mostly the oldest tenth, hidden or about to be, so that boots swap.
            let i = if rng.below(2) == 0 {
                rng.below(n as u64 / 10)
            } else {
                rng.below(n as u64)
            } as usize;
            let c = book
                .boot(Boot {
                    contact_id: Some(ids[i].clone()),
                    ..Boot::default()
                })
                .unwrap();
            assert!(!c.hidden);
        }
        check(&book);
        let _ = round;
    }
}
