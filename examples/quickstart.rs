//! Rolodex quickstart: a contact book on the embedded default store.
//!
//! Run with `cargo run --example quickstart`.

use rolodex::{
    parse_value, Boot, ContactBook, ExportOptions, FieldType, Filter, ImportOptions, Medium,
    MergeChoices, NewLead, Query, Result, Side,
};
use serde_json::json;

fn main() -> Result<()> {
    // 1. Value parsing: the same rules a CSV import uses (R-VAL).
    println!("== value parsing");
    for (ty, text) in [
        (FieldType::MobileNumber, "+82 010-2020-3030"),
        (FieldType::Datetime, "2025-05-04 09:00:00+09:00"),
        (FieldType::Number, "2.50"),
        (FieldType::Tag, r#"["basic/level1", "vip"]"#),
        (FieldType::Date, "2025/05/04"),
        (FieldType::Number, "1,000"),
        (FieldType::MobileNumber, "010-2020-3030"),
    ] {
        match parse_value(ty, text) {
            Ok(v) => println!("  {ty:<13} {text:<30} -> {}", v.canonical()),
            Err(e) => println!("  {ty:<13} {text:<30} -> error: {e}"),
        }
    }

    // 2. A contact book with a custom key.
    println!("== contact book");
    let book = ContactBook::in_memory();
    book.set_clock(Some("2025-06-01T00:00:00Z".parse().unwrap()))?;
    book.define_key("profile.city", FieldType::String)?;
    let kim = book.add_lead(
        NewLead::email("Kim@Example.COM")
            .with_name("Kim Min-jun")
            .with_profile("city", "Seoul")
            .with_tags(["vip/gold"]),
    )?;
    println!("  added {} ({})", kim.id, kim.email().unwrap_or_default());
    match book.add_lead(NewLead::email("kim@example.com")) {
        Err(e) => println!("  duplicate refused: {e}"),
        Ok(_) => unreachable!(),
    }

    // 3. A visitor boots, then logs in as a member: the verified lead is unified into it.
    let visitor = book.boot(Boot::default())?;
    let member = book.boot(Boot {
        contact_id: Some(visitor.id.clone()),
        member_id: Some("m-1001".into()),
        ..Boot::default()
    })?;
    let member = book.update(
        &member.id,
        &json!({"profile": {"email": "kim@example.com"}}),
    )?;
    println!(
        "  member {} now holds {:?}, tags {:?}; the lead's id leads to it: {}",
        member.member_id.as_deref().unwrap_or_default(),
        member.email(),
        member.tags,
        book.get(&kim.id)?.id == member.id
    );

    // 4. MU limit: the least recently seen contacts are hidden.
    book.set_clock(Some("2025-06-02T00:00:00Z".parse().unwrap()))?;
    let lee = book.add_lead(NewLead::mobile("+82 10-1111-2222").with_name("Lee"))?;
    book.set_mu_limit(Some(1))?;
    println!(
        "  MU {} under a limit of 1; member hidden: {}, Lee hidden: {}",
        book.mu_count()?,
        book.get(&member.id)?.hidden,
        book.get(&lee.id)?.hidden
    );
    book.set_mu_limit(None)?;

    // 5. Merge and exact unmerge.
    let mut choices = MergeChoices::new();
    choices.insert("profile.name".into(), Side::Secondary);
    let merged = book.merge(&member.id, &lee.id, &choices)?;
    println!(
        "  merged: {:?} {:?} {:?}",
        merged.contact.name(),
        merged.contact.email(),
        merged.contact.mobile_number()
    );
    let (survivor, back) = book.unmerge(&merged.merge_id)?;
    println!(
        "  unmerged: {:?} and {:?}",
        survivor.display_name(),
        back.display_name()
    );
    println!("  contact JSON: {}", book.get(&back.id)?.to_json());

    // 6. Bulk CSV import of leads, with a failure log of the rows that did not make it.
    println!("== import");
    let dir = std::env::temp_dir().join(format!("rolodex-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(rolodex::Error::storage)?;
    let csv = dir.join("spring-promo.csv");
    std::fs::write(
        &csv,
        "email,name,city,unsubscribeEmail,unsubscribeTexting\n\
         park@example.com,Park,Busan,false,false\n\
         choi@example.com,Choi,Seoul,no,yes\n\
         kim@example.com,Kim (updated),Seoul,,\n\
         not-an-email,Bad,Seoul,false,false\n",
    )
    .map_err(rolodex::Error::storage)?;
    let options = ImportOptions::from_value(&json!({
        "kind": "leads", "identifyBy": "email", "autoMap": false,
        "mapping": {"email": "profile.email", "name": "profile.name", "city": "profile.city",
                    "unsubscribeEmail": "unsubscribeEmail", "unsubscribeTexting": "unsubscribeTexting"}
    }))?;
    let mut log = Vec::new();
    let report = book.import_csv_with_log(&csv, options, None, Some(&mut log))?;
    println!(
        "  created {}, updated {}, failed {}, tag {:?}",
        report.created, report.updated, report.failed, report.import_tag
    );
    print!(
        "  failure log:\n    {}",
        String::from_utf8_lossy(&log).replace('\n', "\n    ")
    );
    println!();

    // 7. Search, a saved segment, and a marketing audience.
    println!("== search");
    let seoul = Filter::from_value(&json!({"and": [
        {"key": "profile.city", "op": "eq", "value": "seoul"},
        {"key": "userImportTags", "op": "containsAny", "value": ["spring-promo"]}
    ]}))?;
    book.save_segment("seoul spring", &seoul)?;
    let page = book.run_segment("seoul spring", &Query::default())?;
    let names: Vec<_> = page
        .contacts
        .iter()
        .filter_map(|c| c.display_name())
        .collect();
    println!(
        "  segment 'seoul spring': {} contacts {:?}",
        page.total, names
    );
    let audience = book.audience("seoul spring", Medium::Email)?;
    println!(
        "  its email audience (opt-outs removed): {}",
        audience.len()
    );
    let found = book.search(&Query::from_json(
        r#"{"terms": "park@example.com, nobody@example.com"}"#,
    )?)?;
    println!(
        "  multi-term search: {} found, unmatched {:?}",
        found.total, found.unmatched_terms
    );

    // 8. Export in the import layout, with formula cells neutralised.
    println!("== export");
    let mut out = Vec::new();
    let options = ExportOptions::from_json(r#"{"editableOnly": true}"#)?;
    let summary = book.export_csv(&mut out, options)?;
    let text = String::from_utf8_lossy(&out);
    for line in text.lines().take(4) {
        println!("  {line}");
    }
    println!("  ... {summary:?}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
