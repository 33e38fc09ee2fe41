//! `set-tod`: set the radio's clock, from the local clock or a given time, and read it back.

use super::{ActionOptions, send};
use crate::device::session::{CliSession, SessionError};
use crate::parse;
use crate::record::{RadioType, Record};
use crate::transport::Shell;

/// Where `set-tod` takes the time from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockSource {
    /// The local clock plus a shift (may be negative), read just before sending.
    Local {
        /// Seconds added to the local time.
        shift_seconds: i64,
    },
    /// A fixed wall-clock time, as written (its offset is not converted).
    At(WallClock),
}

impl ClockSource {
    fn now(&self) -> WallClock {
        match self {
            ClockSource::At(clock) => *clock,
            ClockSource::Local { shift_seconds } => WallClock::from(
                chrono::Local::now().naive_local() + chrono::TimeDelta::seconds(*shift_seconds),
            ),
        }
    }
}

/// The wall-clock time to set, as the radio's CLI wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// `YYYY`, `MM`, `DD`.
    pub date: (i32, u32, u32),
    /// `HH`, `MM`, `SS`.
    pub time: (u32, u32, u32),
}

impl<T: chrono::Datelike + chrono::Timelike> From<T> for WallClock {
    fn from(when: T) -> Self {
        WallClock {
            date: (when.year(), when.month(), when.day()),
            time: (when.hour(), when.minute(), when.second()),
        }
    }
}

/// The command that reads a radio's clock, before and after setting it.
const READ_CLOCK: &str = "show system";

/// Reads the clock, sets it, reads it again; `show` gets `clock_before`, `clock_set` and
/// `clock_after`.
pub async fn run<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    radio_type: RadioType,
    source: &ClockSource,
) -> Result<(), SessionError> {
    let before = read_clock(session, options, record, radio_type).await?;
    let clock = source.now();
    for command in set_clock_commands(radio_type, clock) {
        send(session, options, record, &command).await?;
    }
    let after = read_clock(session, options, record, radio_type).await?;
    let (year, month, day) = clock.date;
    let (hour, minute, second) = clock.time;
    let mut show = serde_json::Map::new();
    show.insert("clock_before".into(), before.into());
    show.insert(
        "clock_set".into(),
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}").into(),
    );
    show.insert("clock_after".into(), after.into());
    record.show = Some(show);
    Ok(())
}

/// The commands [`run`] would send now: the clock read, set from `source` as it stands at
/// this moment, and read again.
pub fn plan(radio_type: RadioType, source: &ClockSource) -> Vec<String> {
    let mut commands = vec![READ_CLOCK.to_owned()];
    commands.extend(set_clock_commands(radio_type, source.now()));
    commands.push(READ_CLOCK.to_owned());
    commands
}

/// The two commands that set a radio's clock: EH and classic MultiHaul
/// `set system time HH:MM:SS` / `set system date YYYY.MM.DD`, TG `set time` / `set date
/// YYYY-MM-DD`; time first, as batchscanner sends them.
pub fn set_clock_commands(radio_type: RadioType, clock: WallClock) -> [String; 2] {
    let (year, month, day) = clock.date;
    let (hour, minute, second) = clock.time;
    let time = format!("{hour:02}:{minute:02}:{second:02}");
    match radio_type {
        RadioType::Tg => [
            format!("set time {time}"),
            format!("set date {year:04}-{month:02}-{day:02}"),
        ],
        RadioType::Eh | RadioType::Bu | RadioType::Tu => [
            format!("set system time {time}"),
            format!("set system date {year:04}.{month:02}.{day:02}"),
        ],
    }
}

/// The radio's clock as `show system` reports it, `None` when it cannot be read.
async fn read_clock<S: Shell>(
    session: &mut CliSession<S>,
    options: &ActionOptions,
    record: &mut Record,
    radio_type: RadioType,
) -> Result<Option<String>, SessionError> {
    send(session, options, record, READ_CLOCK).await?;
    let answer = record.last_output();
    let text =
        |value: Option<&serde_json::Value>| value.and_then(|v| v.as_str()).map(str::to_owned);
    Ok(match radio_type {
        RadioType::Tg => {
            let parsed = parse::tg::parse(answer);
            parsed
                .fields
                .get("system")
                .and_then(|rows| rows.get(0))
                .and_then(|row| text(row.get("datetime")))
        }
        RadioType::Eh | RadioType::Bu | RadioType::Tu => {
            let parsed = parse::eh::parse(radio_type, &[("show system", answer)]);
            match (
                text(parsed.fields.get("system_date")),
                text(parsed.fields.get("system_time")),
            ) {
                (Some(date), Some(time)) => Some(format!("{date} {time}")),
                _ => None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_reads_sets_and_reads_again() {
        let source = ClockSource::At(WallClock {
            date: (2026, 1, 2),
            time: (3, 4, 5),
        });
        assert_eq!(
            plan(RadioType::Bu, &source),
            [
                "show system",
                "set system time 03:04:05",
                "set system date 2026.01.02",
                "show system"
            ]
        );
    }

    #[test]
    fn clock_commands_per_radio_type() {
        let clock = WallClock {
            date: (2026, 11, 21),
            time: (7, 38, 19),
        };
        assert_eq!(
            set_clock_commands(RadioType::Eh, clock),
            ["set system time 07:38:19", "set system date 2026.11.21"]
        );
        assert_eq!(
            set_clock_commands(RadioType::Tg, clock),
            ["set time 07:38:19", "set date 2026-11-21"]
        );
    }
}
