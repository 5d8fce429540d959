//! The rule checks of `tests/oracles/` as property tests over arbitrary bytes, so that
//! every run of the suite tries them; the fuzz targets of `fuzz/` run the same checks for
//! longer. Each compares the library with a model of a rule's text, or with an equality
//! the text implies (see each check's module documentation).
mod oracles;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// R-FLT-7: "a contact whose sort values did not change is never repeated or skipped
    /// while others change".
    #[test]
    fn r_flt_7_cursor_walks_while_contacts_change(data in prop::collection::vec(any::<u8>(), 30..120)) {
        oracles::search_paging::check(&data);
    }

    /// R-CON-8: each key follows the merge rule; unmerge brings the secondary back exactly
    /// and gives the survivor back what did not change since.
    #[test]
    fn r_con_8_merge_choices_and_exact_unmerge(data in prop::collection::vec(any::<u8>(), 0..40)) {
        oracles::merge_unmerge::check(&data);
    }

    /// R-FLT-1, R-FLT-2: quick search and multi-term search find what models written
    /// from the rule text find, and list the terms that matched nothing.
    #[test]
    fn r_flt_1_quick_and_multi_term_search_follow_the_rule_text(data in prop::collection::vec(any::<u8>(), 0..140)) {
        oracles::quick_search::check(&data);
    }

    /// R-IMP-5: the verified holder seen last (ties: created last, then the larger id) is
    /// updated; with only unverified holders, a new verified lead is created.
    #[test]
    fn r_imp_5_the_verified_holder_seen_last_is_updated(data in prop::collection::vec(any::<u8>(), 1..20)) {
        oracles::import_match::check(&data);
    }

    /// R-UNI-1…4: a member gaining verified info unifies never-booted verified leads at once,
    /// records booted ones as pending until their login, and leaves unverified holders.
    #[test]
    fn r_uni_3_4_unification_now_or_at_login(data in prop::collection::vec(any::<u8>(), 1..7)) {
        oracles::unification::check(&data);
    }

    /// R-IMP-5…10, R-IMP-16: one row updating a lead — kept and cleared cells, appended
    /// lists, opt-outs, the identifier, the import tag and times — or failing whole.
    #[test]
    fn r_imp_7_8_one_row_updates_as_the_rules_say(data in prop::collection::vec(any::<u8>(), 0..12)) {
        oracles::import_row::check(&data);
    }

    /// R-EXP-3: a text cell is its value with one `'` in front exactly when it starts with a
    /// formula character or `'`; numbers are plain; no other cell starts like a formula.
    #[test]
    fn r_exp_3_cells_are_neutralised_as_the_rule_says(data in prop::collection::vec(any::<u8>(), 0..24)) {
        oracles::export_cells::check(&data);
    }

    /// R-IMP-13: the failure log lists exactly the failed rows as the rule lays them out,
    /// and once fixed, imports again as is.
    #[test]
    fn r_imp_13_the_failure_log_lists_failed_rows_and_reimports_fixed(data in prop::collection::vec(any::<u8>(), 0..20)) {
        oracles::failure_log::check(&data);
    }

    /// R-EXP-5: each action is allowed exactly when the permission table says; a refusal
    /// names the permission and changes nothing.
    #[test]
    fn r_exp_5_actions_follow_the_permission_table(data in prop::collection::vec(any::<u8>(), 1..14)) {
        oracles::permissions::check(&data);
    }

    /// R-CON-2: a boot's info is unverified, never overwrites verified info, and changes no
    /// other contact.
    #[test]
    fn r_con_2_unverified_input_never_overwrites_verified_info(data in prop::collection::vec(any::<u8>(), 0..20)) {
        oracles::verified_info::check(&data);
    }

    /// R-IMP-9, R-IMP-20: import tags append, a re-used one moves to the newest position,
    /// and past 30 the oldest is dropped.
    #[test]
    fn r_imp_9_import_tags_keep_the_newest_30(data in prop::collection::vec(any::<u8>(), 0..60)) {
        oracles::import_tags::check(&data);
    }

    /// R-CON-3: sessions follow the 30-minute window from the previous boot; edits and
    /// imports are not boots.
    #[test]
    fn r_con_3_sessions_follow_the_30_minute_window(data in prop::collection::vec(any::<u8>(), 0..40)) {
        oracles::sessions::check(&data);
    }

    /// R-MU-2, R-MU-5: new contacts that do not fit are created hidden, in file order, and a
    /// manager's write hides no visible contact.
    #[test]
    fn r_mu_5_new_rows_beyond_the_room_are_created_hidden_in_file_order(data in prop::collection::vec(any::<u8>(), 0..4)) {
        oracles::mu_room::check(&data);
    }

    /// R-IMP-11, R-IMP-16: file order, last row wins, each row whole: one import of a file
    /// equals its rows imported one file at a time.
    #[test]
    fn r_imp_11_a_file_imports_as_its_rows_one_by_one(data in prop::collection::vec(any::<u8>(), 1..40)) {
        oracles::import_split::check(&data);
    }
}

proptest! {
    // Up to 30 steps a case, each followed by three listings: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// R-MU-1, R-MU-2, R-UNI-5: after every step of any sequence of operations MU is the
    /// visible count and within the limit, a failed step changes nothing, and the same steps
    /// give the same book, ids included.
    #[test]
    fn r_uni_5_the_same_steps_give_the_same_book(data in prop::collection::vec(any::<u8>(), 0..90)) {
        oracles::book_ops::check(&data);
    }
}
