//! Property tests: the `show` parsers never panic, whatever the radio sends, and every
//! value they could not read is null with a warning.

use proptest::prelude::*;
use serde_json::Value;
use sikscan::parse::{Parsed, eh, tg};
use sikscan::record::RadioType;

const EH_SAMPLES: [(&str, &str); 15] = [
    ("show system", include_str!("data/eh/show_system.txt")),
    ("show sw", include_str!("data/eh/show_sw.txt")),
    (
        "show inventory 1",
        include_str!("data/eh/show_inventory_1.txt"),
    ),
    ("show rf", include_str!("data/eh/show_rf.txt")),
    ("show rf-debug", include_str!("data/eh/show_rf-debug.txt")),
    ("show eth eth1", include_str!("data/eh/show_eth_eth1.txt")),
    ("show eth eth2", include_str!("data/eh/show_eth_eth2.txt")),
    ("show eth eth3", include_str!("data/eh/show_eth_eth3.txt")),
    ("show eth eth4", include_str!("data/eh/show_eth_eth4.txt")),
    (
        "show lldp-remote",
        include_str!("data/eh/show_lldp-remote.txt"),
    ),
    ("show log", include_str!("data/eh/show_log.txt")),
    (
        "show user-activity-log",
        include_str!("data/eh/show_user-activity-log.txt"),
    ),
    ("show base-unit", include_str!("data/eh/show_base-unit.txt")),
    (
        "show remote-terminal-unit",
        include_str!("data/eh/show_remote-terminal-unit.txt"),
    ),
    (
        "show terminal-unit",
        include_str!("data/eh/show_terminal-unit.txt"),
    ),
];

const TG_SAMPLES: [&str; 3] = [
    include_str!("data/tg/dn1_show.txt"),
    include_str!("data/tg/dn1_show_old_style.txt"),
    include_str!("data/tg/cn1_show.txt"),
];

const SECTIONS: [&str; 7] = [
    "interfaces",
    "inventory",
    "ip",
    "node",
    "sectors",
    "links",
    "system",
];

fn radio_type() -> impl Strategy<Value = RadioType> {
    prop_oneof![
        Just(RadioType::Eh),
        Just(RadioType::Bu),
        Just(RadioType::Tu)
    ]
}

/// Pieces of text rich in what the grammars care about: colons, braces, semicolons, quotes,
/// digits, the flag words, keys the parsers look for, newlines, and some non-ASCII.
const ATOMS: [&str; 32] = [
    " ",
    "  ",
    "\t",
    "\r",
    "\n",
    "\n",
    ":",
    ";",
    "{",
    "}",
    "\"",
    "\\",
    ".",
    "-",
    "0",
    "1",
    "7",
    "42",
    "a",
    "z",
    "yes",
    "no",
    "wait-accept",
    "system uptime",
    "rf",
    "1 mac",
    "active",
    "links",
    "radio-bridge-tg-radio-common:radio-common {",
    "sector",
    "é",
    "\u{0}",
];

/// Text made of `ATOMS` (picking pieces is much cheaper than generating from a regex).
fn cli_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&ATOMS[..]), 0..300).prop_map(|atoms| atoms.concat())
}

/// A sample with a few edits: a range deleted, a range duplicated, text inserted, the
/// end cut. Offsets are taken on character boundaries.
fn mutated(sample: &'static str) -> impl Strategy<Value = String> {
    let edit = (
        0usize..4,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        cli_text(),
    );
    prop::collection::vec(edit, 1..6).prop_map(move |edits| {
        let mut text = sample.to_owned();
        for (kind, a, b, insert) in edits {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let (mut x, mut y) = (bounds[a.index(bounds.len())], bounds[b.index(bounds.len())]);
            if x > y {
                std::mem::swap(&mut x, &mut y);
            }
            text = match kind {
                0 => format!("{}{}", &text[..x], &text[y..]),
                1 => format!("{}{}", &text[..y], &text[x..]),
                2 => format!("{}{insert}{}", &text[..x], &text[x..]),
                _ => text[..x].to_owned(),
            };
        }
        text
    })
}

/// The EH/BU/TU invariants: every field of the type, each a string or a null with exactly
/// one warning.
fn check_flat(radio_type: RadioType, parsed: &Parsed) {
    let reference = eh::parse(radio_type, &EH_SAMPLES);
    let keys: Vec<&String> = parsed.fields.keys().collect();
    let want: Vec<&String> = reference.fields.keys().collect();
    assert_eq!(keys, want);
    assert!(parsed.fields.values().all(|v| v.is_string() || v.is_null()));
    let nulls = parsed.fields.values().filter(|v| v.is_null()).count();
    assert_eq!(nulls, parsed.warnings.len(), "{:?}", parsed.warnings);
}

/// The TG invariants: the seven sections, one node row, string-or-null cells, and at
/// least one warning per null.
fn check_tg(parsed: &Parsed) {
    let keys: Vec<&String> = parsed.fields.keys().collect();
    assert_eq!(keys, SECTIONS);
    assert_eq!(parsed.fields["node"].as_array().map(Vec::len), Some(1));
    let mut nulls = 0;
    for section in SECTIONS {
        for row in parsed.fields[section].as_array().expect("rows") {
            for cell in row.as_object().expect("a row").values() {
                assert!(cell.is_string() || cell.is_null());
                nulls += usize::from(cell == &Value::Null);
            }
        }
    }
    assert!(nulls <= parsed.warnings.len(), "{:?}", parsed.warnings);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn eh_parser_takes_any_text(radio_type in radio_type(), outputs in prop::collection::vec(cli_text(), 15)) {
        let answers: Vec<(&str, &str)> = EH_SAMPLES
            .iter()
            .zip(&outputs)
            .map(|((cmd, _), out)| (*cmd, out.as_str()))
            .collect();
        check_flat(radio_type, &eh::parse(radio_type, &answers));
    }

    #[test]
    fn eh_parser_takes_any_unicode(radio_type in radio_type(), output in any::<String>()) {
        let answers: Vec<(&str, &str)> =
            EH_SAMPLES.iter().map(|(cmd, _)| (*cmd, output.as_str())).collect();
        check_flat(radio_type, &eh::parse(radio_type, &answers));
    }

    #[test]
    fn eh_parser_takes_mutated_samples(
        radio_type in radio_type(),
        which in 0usize..15,
        text in (0usize..15).prop_flat_map(|i| mutated(EH_SAMPLES[i].1)),
    ) {
        let mut answers = EH_SAMPLES.to_vec();
        answers[which].1 = &text;
        check_flat(radio_type, &eh::parse(radio_type, &answers));
    }

    #[test]
    fn tg_parser_takes_any_text(dump in cli_text()) {
        check_tg(&tg::parse(&dump));
    }

    #[test]
    fn tg_parser_takes_any_unicode(dump in any::<String>()) {
        check_tg(&tg::parse(&dump));
    }

    #[test]
    fn tg_parser_takes_mutated_samples(dump in (0usize..3).prop_flat_map(|i| mutated(TG_SAMPLES[i]))) {
        let parsed = tg::parse(&dump);
        check_tg(&parsed);
        let _ = tg::active_cns(&parsed);
    }

    #[test]
    fn tg_parser_takes_any_nesting(opens in prop::collection::vec((0usize..3, 0usize..40), 0..50)) {
        // Runs of `{` lines, `}` lines and leaves, in any order and balance.
        let mut dump = String::new();
        for (kind, n) in opens {
            let line = ["x y {\n", "}\n", "k v;\n"][kind];
            dump.push_str(&line.repeat(n));
        }
        check_tg(&tg::parse(&dump));
    }
}
