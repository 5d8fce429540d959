//! State-machine property test (R-MU-2/3, R-CON-5/6/8): random sequences of add, boot,
//! login, block, unblock, delete, merge, unmerge and limit changes keep the invariants, and the
//! hidden set is exactly what a plain model of the R-MU-2 events predicts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rolodex::{Boot, Contact, ContactBook, MergeChoices, NewLead};

mod support;

#[derive(Debug, Clone)]
enum Step {
    Add,
    BootExisting(usize),
    BootAnon,
    Login(usize, u8),
    Block(usize),
    Unblock(usize),
    Delete(usize),
    Limit(Option<u8>),
    Merge(usize, usize),
    MergeUnmerge(usize, usize),
    Tick(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Add),
        3 => any::<usize>().prop_map(Step::BootExisting),
        1 => Just(Step::BootAnon),
        1 => (any::<usize>(), 0u8..4).prop_map(|(i, m)| Step::Login(i, m)),
        1 => any::<usize>().prop_map(Step::Block),
        1 => any::<usize>().prop_map(Step::Unblock),
        1 => any::<usize>().prop_map(Step::Delete),
        2 => proptest::option::of(0u8..8).prop_map(Step::Limit),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::Merge(a, b)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::MergeUnmerge(a, b)),
        3 => (1u16..120).prop_map(Step::Tick),
    ]
}

/// The plain model of R-MU-2: per contact its ordering key and flags.
#[derive(Debug, Clone, PartialEq)]
struct M {
    last_seen: DateTime<Utc>,
    created: DateTime<Utc>,
    info: bool,
    blocked: bool,
    hidden: bool,
}

#[derive(Default)]
struct Model {
    limit: Option<u64>,
    cs: BTreeMap<String, M>,
}

impl Model {
    fn mu(&self) -> u64 {
        self.cs
            .values()
            .filter(|c| c.info && !c.blocked && !c.hidden)
            .count() as u64
    }
    fn room(&self) -> i64 {
        self.limit.map_or(i64::MAX, |l| l as i64 - self.mu() as i64)
    }
    fn hide_oldest(&mut self, keep: Option<&str>) {
        while self.room() < 0 {
            let victim = self
                .cs
                .iter()
                .filter(|(id, c)| c.info && !c.blocked && !c.hidden && Some(id.as_str()) != keep)
                .min_by_key(|(id, c)| (c.last_seen, c.created, (*id).clone()))
                .map(|(id, _)| id.clone());
            match victim {
                Some(v) => self.cs.get_mut(&v).unwrap().hidden = true,
                None => break,
            }
        }
    }
    fn fill(&mut self) {
        while self.room() > 0 {
            let pick = self
                .cs
                .iter()
                .filter(|(_, c)| c.hidden && !c.blocked)
                .max_by_key(|(id, c)| (c.last_seen, c.created, (*id).clone()))
                .map(|(id, _)| id.clone());
            match pick {
                Some(p) => self.cs.get_mut(&p).unwrap().hidden = false,
                None => break,
            }
        }
    }
    /// A manager's write (R-MU-2): the contact is hidden when there is no room without it.
    fn place(&mut self, id: &str) {
        let c = self.cs.get_mut(id).unwrap();
        if !c.info || c.blocked {
            return;
        }
        c.hidden = true;
        let room = self.room();
        self.cs.get_mut(id).unwrap().hidden = room <= 0;
    }
    fn from(c: &Contact) -> M {
        M {
            last_seen: c.last_seen_at,
            created: c.created_at,
            info: c.has_contact_info(),
            blocked: c.blocked,
            hidden: c.hidden,
        }
    }
}

fn all(book: &ContactBook) -> BTreeMap<String, Contact> {
    let mut out = BTreeMap::new();
    book.store()
        .for_each(book.channel_name(), &mut |c| {
            out.insert(c.id.clone(), c.clone());
            true
        })
        .unwrap();
    out
}

fn pick(model: &Model, i: usize) -> Option<String> {
    if model.cs.is_empty() {
        return None;
    }
    model.cs.keys().nth(i % model.cs.len()).cloned()
}

fn strip(mut c: Contact) -> Contact {
    c.updated_at = DateTime::<Utc>::MIN_UTC;
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn mu_model_and_invariants_hold(steps in proptest::collection::vec(step(), 1..60)) {
        run_model(ContactBook::in_memory(), steps)?;
    }

    /// The same over a store that takes every default of the `Store` trait (the plain
    /// visit, the state and count reads), as a new backend would.
    #[test]
    fn mu_model_holds_over_the_store_trait_defaults(steps in proptest::collection::vec(step(), 1..60)) {
        run_model(support::defaults_book(), steps)?;
    }
}

/// Runs `steps` on `book` beside the plain model, checking the invariants after each.
fn run_model(book: ContactBook, steps: Vec<Step>) -> Result<(), TestCaseError> {
    {
        let other = book.channel("other");
        let mut now = "2025-06-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        book.set_clock(Some(now)).unwrap();
        other
            .add_lead(NewLead::email("shared@example.com"))
            .unwrap();
        let other_before = all(&other);
        let mut model = Model::default();
        let mut n = 0;

        for s in steps {
            match s {
                Step::Tick(m) => {
                    now += Duration::minutes(m as i64);
                    book.set_clock(Some(now)).unwrap();
                }
                Step::Add => {
                    n += 1;
                    let c = book
                        .add_lead(NewLead::email(format!("p{n}@example.com")))
                        .unwrap();
                    model.cs.insert(c.id.clone(), Model::from(&c));
                    model.cs.get_mut(&c.id).unwrap().hidden = false;
                    model.place(&c.id);
                }
                Step::BootAnon => {
                    let c = book.boot(Boot::default()).unwrap();
                    model.cs.insert(c.id.clone(), Model::from(&c));
                }
                Step::BootExisting(i) => {
                    let Some(id) = pick(&model, i) else { continue };
                    book.boot(Boot {
                        contact_id: Some(id.clone()),
                        ..Boot::default()
                    })
                    .unwrap();
                    let c = model.cs.get_mut(&id).unwrap();
                    c.last_seen = now;
                    if !c.blocked {
                        c.hidden = false;
                        model.hide_oldest(Some(&id));
                        model.hide_oldest(None);
                    }
                }
                Step::Login(i, m) => {
                    // A login names an existing contact; the model follows the book's result.
                    let Some(id) = pick(&model, i) else { continue };
                    book.boot(Boot {
                        contact_id: Some(id),
                        member_id: Some(format!("member-{m}")),
                        ..Boot::default()
                    })
                    .unwrap();
                    // Re-sync the model with what the book did (R-CON-9 may delete or keep
                    // contacts); then the MU invariants below still must hold.
                    model.cs = all(&book)
                        .iter()
                        .map(|(k, c)| (k.clone(), Model::from(c)))
                        .collect();
                }
                Step::Block(i) => {
                    let Some(id) = pick(&model, i) else { continue };
                    book.block(vec![id.clone()]).unwrap();
                    let c = model.cs.get_mut(&id).unwrap();
                    c.blocked = true;
                    c.hidden = false;
                    model.fill();
                }
                Step::Unblock(i) => {
                    let Some(id) = pick(&model, i) else { continue };
                    let was = model.cs[&id].blocked;
                    book.unblock(vec![id.clone()]).unwrap();
                    if was {
                        model.cs.get_mut(&id).unwrap().blocked = false;
                        model.place(&id);
                    }
                }
                Step::Delete(i) => {
                    let Some(id) = pick(&model, i) else { continue };
                    book.delete(vec![id.clone()]).unwrap();
                    model.cs.remove(&id);
                    model.fill();
                }
                Step::Limit(l) => {
                    let l = l.map(u64::from);
                    book.set_mu_limit(l).unwrap();
                    model.limit = l;
                    model.hide_oldest(None);
                    model.fill();
                }
                Step::Merge(a, b) | Step::MergeUnmerge(a, b) => {
                    let (Some(p), Some(q)) = (pick(&model, a), pick(&model, b)) else {
                        continue;
                    };
                    let before = all(&book);
                    let r = book.merge(&p, &q, &MergeChoices::new());
                    let ok = p != q
                        && !model.cs[&p].blocked
                        && !model.cs[&p].hidden
                        && !model.cs[&q].blocked
                        && !model.cs[&q].hidden;
                    prop_assert_eq!(r.is_ok(), ok, "merge precondition: {:?}", r.as_ref().err());
                    let Ok(r) = r else { continue };
                    if matches!(s, Step::MergeUnmerge(..)) {
                        book.unmerge(&r.merge_id).unwrap();
                        let after = all(&book);
                        // Unmerge restores both originals exactly (MU placement aside).
                        for id in [&p, &q] {
                            let mut want = before[id].clone();
                            let got = after[id].clone();
                            want.hidden = got.hidden;
                            prop_assert_eq!(strip(got), strip(want));
                        }
                        // Model: the merge freed the secondary's room (filled from the hidden),
                        // then the recreated secondary is placed like a manager's write.
                        let q_model = model.cs.remove(&q).unwrap();
                        let p_info = model.cs[&p].info;
                        model.cs.get_mut(&p).unwrap().info = r.contact.has_contact_info();
                        model.fill();
                        model.cs.get_mut(&p).unwrap().info = p_info;
                        model.cs.insert(
                            q.clone(),
                            M {
                                hidden: false,
                                ..q_model
                            },
                        );
                        model.place(&q);
                        model.fill();
                    } else {
                        let merged = &r.contact;
                        model.cs.remove(&q);
                        let m = model.cs.get_mut(&p).unwrap();
                        m.last_seen = merged.last_seen_at;
                        m.created = merged.created_at;
                        m.info = merged.has_contact_info();
                        model.fill();
                    }
                }
            }

            let real = all(&book);
            let mu = book.mu_count().unwrap();
            let counted = real.values().filter(|c| c.counts_for_mu()).count() as u64;
            prop_assert_eq!(
                mu,
                counted,
                "MU equals the visible, unblocked contacts with info"
            );
            if let Some(l) = book.mu_limit().unwrap() {
                prop_assert!(mu <= l, "visible MU {} over limit {}", mu, l);
            }
            prop_assert!(real.values().all(|c| !(c.blocked && c.hidden)));
            let real_hidden: Vec<&String> = real
                .iter()
                .filter(|(_, c)| c.hidden)
                .map(|(k, _)| k)
                .collect();
            let model_hidden: Vec<&String> = model
                .cs
                .iter()
                .filter(|(_, c)| c.hidden)
                .map(|(k, _)| k)
                .collect();
            prop_assert_eq!(
                real_hidden,
                model_hidden,
                "hidden set differs from the R-MU-2 model"
            );
            prop_assert_eq!(&all(&other), &other_before, "another channel changed");
        }
    }
    Ok(())
}

/// Arbitrary JSON of modest depth, with strings biased toward the shapes values take.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("+82 010-2020-3030"),
            Just("a@example.com"),
            Just("2025-05-04"),
            Just("[\"a\",\"b/c\"]"),
            Just("null"),
            Just("0000"),
            Just("1,000"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("email".to_string()),
                    Just("mobileNumber".to_string()),
                    Just("city".to_string()),
                    Just("profile.city".to_string()),
                    Just("tags".to_string()),
                    Just("unsubscribeEmail".to_string()),
                    Just("lastSeenAt".to_string()),
                    Just("profile".to_string()),
                    "[a-zA-Z.]{0,12}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn fingerprint(book: &ContactBook) -> String {
    format!(
        "{:?}|{}|{:?}",
        all(book),
        book.mu_count().unwrap(),
        book.schema().unwrap()
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// No panic on any caller input; a failed call changes nothing (standards, R-CON-3:
    /// a boot never fails on data).
    #[test]
    fn arbitrary_input_never_panics_and_failures_change_nothing(
        lead in arb_json(), patch in arb_json(), boot in arb_json(),
    ) {
        let book = ContactBook::in_memory();
        book.define_key("profile.city", rolodex::FieldType::String).unwrap();
        let existing = book.add_lead(NewLead::email("x@example.com")).unwrap();

        if let Ok(lead) = serde_json::from_value::<NewLead>(lead) {
            let before = fingerprint(&book);
            if book.add_lead(lead).is_err() {
                prop_assert_eq!(fingerprint(&book), before);
            }
        }
        let before = fingerprint(&book);
        if book.update(&existing.id, &patch).is_err() {
            prop_assert_eq!(fingerprint(&book), before);
        }
        let profile = match boot {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let r = book.boot(Boot { contact_id: Some(existing.id.clone()), profile, ..Boot::default() });
        prop_assert!(r.is_ok(), "a boot never fails on data: {:?}", r.err());
        prop_assert!(book.mu_count().unwrap() <= 3);
    }
}
