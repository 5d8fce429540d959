//! R-EXP-5 against its table: "an owner may do everything; only owners export contacts;
//! `editContacts` is needed to import, edit, verify, merge, block and tag; `deleteContacts`
//! to delete … A denied action changes nothing and says which permission is missing."
//! A manager (an owner, or a member-role manager with any set of permissions) tries a
//! sequence of actions from the input; each is allowed exactly when the table says, and a
//! denied one is `PermissionDenied`, names the permission, and changes nothing.
use std::io::Cursor;

use rolodex::{
    ErrorKind, ExportOptions, IdentifyBy, ImportOptions, ImportSource, Manager, MergeChoices,
    NewLead, Permission,
};
use serde_json::json;

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let Some((&who, steps)) = data.split_first() else {
        return;
    };
    let system = super::book_with(&[]);
    let ids: Vec<String> = (0..4)
        .map(|i| {
            system
                .add_lead(NewLead::email(format!("c{i}@x.com")))
                .unwrap()
                .id
        })
        .collect();
    let permissions: Vec<Permission> = [
        Permission::EditContacts,
        Permission::DeleteContacts,
        Permission::DownloadData,
    ]
    .into_iter()
    .enumerate()
    .filter(|(i, _)| who >> i & 1 == 1)
    .map(|(_, p)| p)
    .collect();
    let owner = who & 8 != 0;
    let manager = if owner {
        Manager::owner("mgr")
    } else {
        Manager::member("mgr", &permissions)
    };
    let book = system.as_manager(manager);
    let holds = |p: Permission| owner || permissions.contains(&p);
    for (n, &step) in steps.iter().take(12).enumerate() {
        let id = ids[usize::from(step >> 4) % ids.len()].clone();
        let other = ids[(usize::from(step >> 4) + 1) % ids.len()].clone();
        // What the table requires, and the action's result.
        let (needed, result): (Permission, rolodex::Result<()>) = {
            let before = super::state(&system);
            let (needed, r) = match step % 8 {
                0 => (
                    Permission::EditContacts,
                    book.update(&id, &json!({"profile": {"name": format!("N{n}")}}))
                        .map(drop),
                ),
                1 => (
                    Permission::EditContacts,
                    book.verify(&id, "profile.email").map(drop),
                ),
                2 => (
                    Permission::EditContacts,
                    book.add_tags(vec![id.clone()], &[format!("t{n}")])
                        .map(drop),
                ),
                3 => (
                    Permission::EditContacts,
                    book.block(vec![id.clone()]).map(drop),
                ),
                4 => (
                    Permission::EditContacts,
                    book.merge(&id, &other, &MergeChoices::new()).map(drop),
                ),
                5 => {
                    let mut o = ImportOptions::leads(IdentifyBy::Email);
                    o.auto_map = true;
                    let csv = format!("profile.email,profile.name\nc0@x.com,Imp{n}\n");
                    (
                        Permission::EditContacts,
                        book.import_csv(
                            ImportSource::reader(Cursor::new(csv.into_bytes())),
                            o,
                            None,
                        )
                        .map(drop),
                    )
                }
                6 => (
                    Permission::DeleteContacts,
                    book.delete(vec![id.clone()]).map(drop),
                ),
                _ => (
                    Permission::Owner,
                    book.export_csv(Vec::new(), ExportOptions::default())
                        .map(drop),
                ),
            };
            if let Err(e) = &r {
                if e.kind() == ErrorKind::PermissionDenied {
                    assert_eq!(
                        super::state(&system),
                        before,
                        "a denied action changed the book"
                    );
                }
            }
            (needed, r)
        };
        let allowed = if needed == Permission::Owner {
            owner
        } else {
            holds(needed)
        };
        match result {
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                assert!(
                    !allowed,
                    "step {} refused to a manager the table allows: {e}",
                    step % 8
                );
                let name = needed.as_str();
                assert!(
                    e.to_string().contains(name),
                    "the refusal names {name}: {e}"
                );
            }
            // Allowed: it may still fail on the data (a merge with a deleted contact …).
            _ => assert!(
                allowed,
                "step {} allowed to a manager the table refuses",
                step % 8
            ),
        }
    }
}
