//! Identifying a radio from what it shows before and after login (reference §2.4, §2.5, §3.1).
//!
//! - The SSH userauth banner of EtherHaul and classic MultiHaul radios reads
//!   `MODEL, S/N: SERIAL, Ver: VERSION`; MultiHaul TG radios send none.
//! - The CLI prompt names the radio: `NAME>` (quoted when the name has spaces), or
//!   `MODEL@NAME>` on TG.
//! - A radio that lost its banner (EH-8010FX on 10.6.2) answers `show inventory 1` with its model,
//!   serial and software.

use std::time::Duration;

use super::session::{CliSession, PromptMatch, SessionError};
pub use crate::record::Identity;
use crate::record::{RadioType, Record};
use crate::transport::Shell;

/// The radio type a model belongs to, by batchscanner's prefix rules (in this order):
/// `EH…` → EH; `MH-B100…` → BU; `MH-T200…`/`MH-T201…` → TU; any other `MH-…` → TG.
pub fn radio_type(model: &str) -> Option<RadioType> {
    if model.starts_with("EH") {
        Some(RadioType::Eh)
    } else if model.starts_with("MH-B100") {
        Some(RadioType::Bu)
    } else if model.starts_with("MH-T200") || model.starts_with("MH-T201") {
        Some(RadioType::Tu)
    } else if model.starts_with("MH-") {
        Some(RadioType::Tg)
    } else {
        None
    }
}

/// Reads `MODEL, S/N: SERIAL, Ver: VERSION` as batchscanner does: the model is the text before
/// the first comma; the serial runs from `S/N:` to the last comma of its line; the version is
/// the rest of the line after `Ver:`.
///
/// The banner may hold several lines (a server can send several banners: OpenSSH with PAM
/// sends its `Banner` file, then PAM's "You are required to change your password"): the first
/// line that names a Siklu model that way is the identity line, wherever it is. A banner with
/// no such line is read whole, as batchscanner reads it.
pub fn parse_banner(banner: &str) -> Identity {
    banner
        .lines()
        .map(read_identity)
        .find(|id| id.model.as_deref().and_then(radio_type).is_some())
        .unwrap_or_else(|| read_identity(banner))
}

fn read_identity(banner: &str) -> Identity {
    let text = banner.trim();
    let model = text
        .split_once(',')
        .map(|(model, _)| model.trim())
        .filter(|model| !model.is_empty())
        .map(str::to_owned);
    let sn = find_ascii_case_insensitive(text, "S/N:").and_then(|at| {
        let line = first_line(&text[at + 4..]);
        line.rfind(',')
            .map(|comma| line[..comma].trim())
            .filter(|sn| !sn.is_empty())
            .map(str::to_owned)
    });
    let sw = text.find("Ver:").and_then(|at| {
        let version = first_line(&text[at + 4..]).trim();
        (!version.is_empty()).then(|| version.to_owned())
    });
    Identity { model, sn, sw }
}

fn first_line(text: &str) -> &str {
    text.split(['\r', '\n']).next().unwrap_or_default()
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What a CLI prompt says about the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// `MODEL@NAME>` of a MultiHaul TG radio.
    Tg {
        /// e.g. `MH-N366`.
        model: String,
        /// e.g. `dn1`.
        name: String,
    },
    /// `NAME>` or `"NAME WITH SPACES">`: a Siklu-style CLI (or another vendor's `Router>`).
    Named {
        /// The name without surrounding quotes.
        name: String,
    },
    /// A Unix shell (`$` or `#` prompt): not a radio.
    Shell,
}

/// Classifies a prompt (as returned by the CLI session, trailing blanks removed).
pub fn parse_prompt(prompt: &str) -> PromptKind {
    let prompt = prompt.trim_end();
    let Some(body) = prompt.strip_suffix('>') else {
        return PromptKind::Shell;
    };
    if body.starts_with("MH-")
        && !body.contains(char::is_whitespace)
        && let Some((model, name)) = body.rsplit_once('@')
        && !name.is_empty()
    {
        return PromptKind::Tg {
            model: model.to_owned(),
            name: name.to_owned(),
        };
    }
    let name = body
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(body);
    PromptKind::Named {
        name: name.to_owned(),
    }
}

/// Reads the answer to `show inventory 1`, which must start with its `desc` line to count.
pub fn parse_inventory(output: &str) -> Option<Identity> {
    let model = inventory_value(output.trim_start(), "desc", true)?;
    Some(Identity {
        model: Some(model),
        sn: inventory_value(output, "serial", false),
        sw: inventory_value(output, "sw-rev", false),
    })
}

/// Reads the chassis of a TG `show inventory`: the first `component` without a `parent` leaf
/// gives `serial-num` and `software-rev` (the model comes from the prompt).
pub fn parse_tg_inventory(output: &str) -> Option<Identity> {
    let mut in_component = false;
    let mut depth = 0usize;
    let mut found = Identity::default();
    let mut has_parent = false;
    for line in output.lines() {
        let line = line.trim();
        if let Some(title) = line.strip_suffix('{').map(str::trim) {
            depth += 1;
            if depth == 2 && title.starts_with("component") {
                in_component = true;
                has_parent = false;
                found = Identity::default();
            }
            continue;
        }
        if line.starts_with('}') {
            if in_component && depth == 2 {
                in_component = false;
                if !has_parent && (found.sn.is_some() || found.sw.is_some()) {
                    return Some(found);
                }
            }
            depth = depth.saturating_sub(1);
            continue;
        }
        if !in_component || depth != 2 {
            continue;
        }
        let Some((key, value)) = line.trim_end_matches(';').split_once(char::is_whitespace) else {
            continue;
        };
        let value = value.trim().to_owned();
        match key {
            "parent" => has_parent = true,
            "serial-num" => found.sn = Some(value),
            "software-rev" => found.sw = Some(value),
            "model-name" => found.model = Some(value),
            _ => {}
        }
    }
    None
}

/// The first token after `inventory 1 KEY <spaces> : <spaces>`, anchored at the start of the
/// text when `at_start`.
fn inventory_value(text: &str, key: &str, at_start: bool) -> Option<String> {
    let label = format!("inventory 1 {key}");
    text.lines()
        .take(if at_start { 1 } else { usize::MAX })
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(&label)?;
            // `\s+:` as the reference has it: at least one blank before the colon.
            if !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let value = rest.trim_start().strip_prefix(':')?;
            value.split_whitespace().next().map(str::to_owned)
        })
}

/// Identifies the device behind `prompt`: fills radio type, model, name, serial and software
/// and sets `ok`, or sets `not-siklu` with the reason. Fields are filled as they are learnt, so
/// a deadline cut keeps what was found.
pub async fn identify<S: Shell>(
    session: &mut CliSession<S>,
    prompt: &str,
    banner: Option<&str>,
    command_timeout: Duration,
    record: &mut Record,
) -> Result<(), SessionError> {
    let name = match parse_prompt(prompt) {
        PromptKind::Shell => {
            unix_shell(
                record,
                format!("a shell prompt ('{prompt}'), not a radio CLI"),
                banner,
            );
            return Ok(());
        }
        PromptKind::Tg { model, name } => {
            return identify_tg(session, command_timeout, record, model, name).await;
        }
        PromptKind::Named { name } => name,
    };
    if apply_banner(record, banner) {
        record.name = Some(name);
        record.succeed();
        return Ok(());
    }
    // No Siklu banner: radios that lost theirs still answer `show inventory 1`.
    let answer = session
        .command("show inventory 1", command_timeout, PromptMatch::Known)
        .await?;
    let found = parse_inventory(&answer)
        .and_then(|id| Some((id.model.as_deref().and_then(radio_type)?, id)));
    match found {
        Some((radio_type, id)) => {
            record.identified(radio_type, id);
            record.name = Some(name);
            record.succeed();
        }
        None => record.not_siklu(format!(
            "no Siklu identity in the banner, the prompt ('{prompt}') or 'show inventory 1'"
        )),
    }
    Ok(())
}

/// The device turned out to be a Unix shell (`why` says how it showed): `not-siklu`. A banner
/// that names a Siklu radio is contradicted by the shell, so its identity is not taken, and
/// the error says so.
pub fn unix_shell(record: &mut Record, why: String, banner: Option<&str>) {
    let claimed = banner
        .map(parse_banner)
        .and_then(|id| id.model.filter(|model| radio_type(model).is_some()));
    let error = match claimed {
        Some(model) => {
            format!(
                "{why}, although the banner names a Siklu radio ({model}): the banner is not trusted"
            )
        }
        None => why,
    };
    record.not_siklu(error);
}

/// The prompt at the end of a radio's session names it as it is then: a command may have
/// renamed it (on EtherHaul the prompt is the system name, so `set system name X` makes it
/// `X>`). The record's `name` and `prompt` follow a prompt of the same kind; any other is left
/// alone.
pub fn follow_prompt(record: &mut Record, prompt: Option<&str>) {
    let Some(prompt) = prompt else {
        return;
    };
    let name = match parse_prompt(prompt) {
        PromptKind::Named { name } if record.radio_type != Some(RadioType::Tg) => name,
        PromptKind::Tg { name, .. } if record.radio_type == Some(RadioType::Tg) => name,
        _ => return,
    };
    record.name = Some(name);
    record.prompt = Some(prompt.to_owned());
}

/// Identifies a TG radio (a DN, or a CN after `connect`): model and name from its prompt,
/// serial and software from `show inventory`, as TG radios send no banner.
pub async fn identify_tg<S: Shell>(
    session: &mut CliSession<S>,
    command_timeout: Duration,
    record: &mut Record,
    model: String,
    name: String,
) -> Result<(), SessionError> {
    record.radio_type = radio_type(&model);
    record.model = Some(model);
    record.name = Some(name);
    let answer = session
        .command("show inventory", command_timeout, PromptMatch::Known)
        .await?;
    if let Some(id) = parse_tg_inventory(&answer) {
        record.sn = id.sn;
        record.sw = id.sw;
    }
    record.succeed();
    Ok(())
}

/// Takes radio type, model, serial and software from a Siklu banner; false when the banner
/// names no Siklu model (the record is then left as it was).
pub fn apply_banner(record: &mut Record, banner: Option<&str>) -> bool {
    let Some(id) = banner.map(parse_banner) else {
        return false;
    };
    let Some(radio_type) = id.model.as_deref().and_then(radio_type) else {
        return false;
    };
    record.identified(radio_type, id);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_fields_follow_batchscanner() {
        assert_eq!(
            parse_banner("EH-710TX, S/N: T.BJF943017B, Ver: 7.7.10-13186-d2f25a6\r\n"),
            Identity {
                model: Some("EH-710TX".into()),
                sn: Some("T.BJF943017B".into()),
                sw: Some("7.7.10-13186-d2f25a6".into()),
            }
        );
        let no_comma = parse_banner("Authorized access only");
        assert_eq!(no_comma, Identity::default());
        assert_eq!(
            parse_banner("Welcome, friend").model.as_deref(),
            Some("Welcome")
        );
    }

    #[test]
    fn the_identity_line_may_be_any_line_of_the_banner() {
        let expected = Identity {
            model: Some("EH-710TX".into()),
            sn: Some("T.BJF943017B".into()),
            sw: Some("7.7.10-13186-d2f25a6".into()),
        };
        let identity = "EH-710TX, S/N: T.BJF943017B, Ver: 7.7.10-13186-d2f25a6";
        let pam = "You are required to change your password immediately (administrator enforced).";
        for banner in [
            format!("{identity}\n{pam}"),
            format!("{pam}\n{identity}"),
            format!("Authorized access only, by order\n\n{identity}\r\nGoodbye, then"),
        ] {
            assert_eq!(parse_banner(&banner), expected, "{banner:?}");
        }
    }

    #[test]
    fn radio_types_by_prefix() {
        let cases = [
            ("EH-8010FX", Some(RadioType::Eh)),
            ("MH-B100-CCS-PoE", Some(RadioType::Bu)),
            ("MH-T201-CCS", Some(RadioType::Tu)),
            ("MH-N366", Some(RadioType::Tg)),
            ("Welcome", None),
        ];
        for (model, expected) in cases {
            assert_eq!(radio_type(model), expected, "{model}");
        }
    }

    #[test]
    fn prompts_name_the_device() {
        assert_eq!(
            parse_prompt("MH-N366@dn1>"),
            PromptKind::Tg {
                model: "MH-N366".into(),
                name: "dn1".into()
            }
        );
        assert_eq!(
            parse_prompt("\"Roof North\">"),
            PromptKind::Named {
                name: "Roof North".into()
            }
        );
        assert_eq!(
            parse_prompt("EH-710TX>"),
            PromptKind::Named {
                name: "EH-710TX".into()
            }
        );
        assert_eq!(parse_prompt("admin@host:~$"), PromptKind::Shell);
        assert_eq!(parse_prompt("root@box:/#"), PromptKind::Shell);
    }

    #[test]
    fn the_record_follows_a_renamed_prompt() {
        let mut eh = Record::new(None, None, crate::record::Status::Ok);
        eh.radio_type = Some(RadioType::Eh);
        eh.name = Some("EH-710TX".into());
        follow_prompt(&mut eh, Some("\"Roof North\">"));
        assert_eq!(eh.name.as_deref(), Some("Roof North"));
        assert_eq!(eh.prompt.as_deref(), Some("\"Roof North\">"));
        // A prompt of another kind (a shell reached from the radio) is not a new name.
        follow_prompt(&mut eh, Some("root@box:~#"));
        assert_eq!(eh.name.as_deref(), Some("Roof North"));
        let mut tg = Record::new(None, None, crate::record::Status::Ok);
        tg.radio_type = Some(RadioType::Tg);
        follow_prompt(&mut tg, Some("MH-N366@pop-1>"));
        assert_eq!(tg.name.as_deref(), Some("pop-1"));
    }

    #[test]
    fn tg_inventory_gives_the_chassis_serial_and_software() {
        let answer = "radio-bridge-tg-inventory:inventory {\n   component MH-N366 {\n      description MH-N366;\n      software-rev 2.1.1-3215-af9ea50ff;\n      serial-num FB18483274;\n      model-name MH-N366-CCP-PoE-MWB;\n   }\n   component Baseband {\n      parent MH-N366;\n      serial-num FD01650017;\n   }\n}";
        let id = parse_tg_inventory(answer).expect("a chassis");
        assert_eq!(id.sn.as_deref(), Some("FB18483274"));
        assert_eq!(id.sw.as_deref(), Some("2.1.1-3215-af9ea50ff"));
        assert_eq!(parse_tg_inventory("CLI syntax error"), None);
    }

    #[test]
    fn inventory_must_start_with_desc() {
        let answer = "inventory 1 desc          : EH-8010FX\ninventory 1 serial        : F4A1\ninventory 1 sw-rev        : 10.6.2\n";
        assert_eq!(
            parse_inventory(answer),
            Some(Identity {
                model: Some("EH-8010FX".into()),
                sn: Some("F4A1".into()),
                sw: Some("10.6.2".into()),
            })
        );
        assert_eq!(parse_inventory("bash: show: command not found"), None);
        assert_eq!(
            parse_inventory("inventory 1 serial : X\ninventory 1 desc : EH"),
            None
        );
    }
}
