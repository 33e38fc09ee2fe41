//! The MultiHaul TG command line: `show` dumps, `show startup` (paged, its `--More--` erased
//! with backspaces and `ESC[2K`), `set time`/`set date`, `connect <cn>` into a client node and
//! `quit` back, and `CLI syntax error in: "…": Unknown command`.

use super::cli::{Cli, Reply, rest_after, words};
use super::config;
use super::identity::dhms;
use super::state::{Clock, NodeKey, Registry};
use super::tg::{Live, Node, SECTIONS, Tg};

/// Lines per page of `show startup`: the TG CLI pages it whatever the terminal's height.
pub const STARTUP_PAGE_LINES: u32 = 20;

/// How the TG pager erases its marker: back over it, then clear the line.
const ERASE_MORE: &[u8] = b"\x08\x08\x08\x08\x08\x08\x08\x08\x1b[2K";

/// One session on a TG DN, possibly tunnelled into one of its CNs.
pub struct TgCli {
    tg: Tg,
    registry: Registry,
    /// Index of the CN the session is in, or `None` on the DN.
    inside: Option<usize>,
}

impl TgCli {
    /// A session on the DN.
    pub fn new(tg: Tg, registry: Registry) -> TgCli {
        TgCli {
            tg,
            registry,
            inside: None,
        }
    }

    fn node(&self) -> &Node {
        match self.inside {
            Some(index) => &self.tg.cns[index].0,
            None => &self.tg.dn,
        }
    }

    fn key(&self) -> NodeKey {
        (self.tg.ip, self.inside.map(|_| self.node().name.clone()))
    }

    fn clock(&self) -> Clock {
        let changes = self.registry.get(&self.key());
        Clock {
            offset: changes.clock_offset.unwrap_or(self.node().clock_offset),
        }
    }

    fn live(&self) -> Live {
        let node = self.node();
        let clock = self.clock();
        let changes = self.registry.get(&self.key());
        Live {
            date_time: format!("{} {}", clock.date('-'), clock.time()),
            uptime: dhms(node.uptime_at_start + self.registry.elapsed(), 5),
            location: changes.location.unwrap_or_else(|| node.location.clone()),
        }
    }

    fn show(&self, sections: &[&str]) -> Option<Vec<String>> {
        let live = self.live();
        let mut lines = Vec::new();
        for section in sections {
            lines.extend(self.node().section(section, &live)?);
        }
        Some(lines)
    }

    fn set(&mut self, what: &str, value: &str, separator: Option<char>) -> Reply {
        let clock = self.clock();
        let offset = match separator {
            Some(separator) => clock.with_date(value, separator),
            None => clock.with_time(value),
        };
        match offset {
            Some(offset) => {
                self.registry
                    .update(self.key(), |c| c.clock_offset = Some(offset));
                Reply::empty()
            }
            None => Reply::error(
                format!("Validate failed: invalid {what} value \"{value}\""),
                1,
            ),
        }
    }
}

/// The TG unknown-command answer, in the form the reference observed.
pub fn syntax_error(line: &str) -> Reply {
    Reply::error(
        format!("CLI syntax error in: \"{}\": Unknown command", line.trim()),
        1,
    )
}

impl Cli for TgCli {
    fn prompt(&self) -> String {
        let node = self.node();
        format!("{}@{}>", node.product, node.name)
    }

    fn pager_erase(&self) -> &'static [u8] {
        ERASE_MORE
    }

    fn node_name(&self) -> Option<String> {
        self.inside.map(|_| self.node().name.clone())
    }

    fn execute(&mut self, line: &str) -> Reply {
        let words = words(line);
        match words.as_slice() {
            ["show", "startup"] => Reply {
                page_lines: Some(STARTUP_PAGE_LINES),
                ..Reply::ok(config::tg_startup_lines(self.node(), &self.live().location))
            },
            ["show"] => self
                .show(&SECTIONS)
                .map_or_else(|| syntax_error(line), Reply::ok),
            ["show", section] => self
                .show(&[section])
                .map_or_else(|| syntax_error(line), Reply::ok),
            ["set", "time", value] => self.set("time", value, None),
            ["set", "date", value] => self.set("date", value, Some('-')),
            ["set", "system", "location", ..] => match rest_after(line, 3) {
                Some(value) if !value.contains('"') => {
                    self.registry
                        .update(self.key(), |c| c.location = Some(value));
                    Reply::empty()
                }
                _ => Reply::error("Validate failed: invalid location", 1),
            },
            ["connect", name] if self.inside.is_none() => {
                match self.tg.cns.iter().position(|(cn, _)| cn.name == *name) {
                    Some(index) if self.tg.cns[index].1 => {
                        self.inside = Some(index);
                        Reply::empty()
                    }
                    Some(_) => Reply::error(
                        format!("Error: connection to {name} failed: remote node not responding"),
                        1,
                    ),
                    None => Reply::error(format!("Error: unknown remote node {name}"), 1),
                }
            }
            ["quit"] | ["exit"] => match self.inside {
                Some(_) => {
                    self.inside = None;
                    Reply::empty()
                }
                None => Reply::close(),
            },
            _ => syntax_error(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::sim::fleet::Fleet;

    #[test]
    fn connect_reaches_reachable_cns_only_and_quit_returns() {
        let fleet = Fleet::demo();
        let ip = Ipv4Addr::new(127, 77, 0, 200);
        let tg = Tg::new(1, ip, fleet.profile(ip).expect("served"));
        let dn_prompt = format!("MH-N366@{}>", tg.dn.name);
        let mut cli = TgCli::new(tg, Registry::new());
        assert_eq!(cli.prompt(), dn_prompt);
        assert_eq!(cli.execute("connect cn1"), Reply::empty());
        assert_eq!(cli.prompt(), "MH-T265@cn1>");
        assert!(cli.execute("connect cn2").lines[0].starts_with("CLI syntax error"));
        assert_eq!(cli.execute("quit"), Reply::empty());
        assert_eq!(cli.prompt(), dn_prompt);
        let refused = cli.execute("connect cn3");
        assert_eq!(refused.status, 1);
        assert_eq!(cli.prompt(), dn_prompt);
        assert!(cli.execute("quit").close);
    }
}
