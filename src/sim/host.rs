//! SSH hosts that are not Siklu radios: a Linux server and a router with another vendor's CLI.

use std::net::Ipv4Addr;

use super::cli::{Cli, Reply, words};
use super::identity::Draw;

/// The userauth banner of the non-Siklu router persona: no comma, so no model can be read
/// from it (reference Appendix A, .20).
pub const ROUTER_BANNER: &str = "Authorized access only";

/// A Linux host: `user@host:~$ ` prompt, a few deterministic commands, `command not found`.
/// On a shell channel without a terminal it reads its input as a script, as bash does: no
/// prompt, no echo, and errors that name the line (`-bash: line 2: x: command not found`).
pub struct LinuxCli {
    user: String,
    hostname: String,
    kernel: String,
}

impl LinuxCli {
    /// The host at `ip`, logged in as `user`.
    pub fn new(seed: u64, ip: Ipv4Addr, user: &str) -> LinuxCli {
        let mut d = Draw::new(seed, ip, "linux");
        let hostname = format!("srv-{}", d.hex(6));
        let kernel = format!("6.1.0-{}-amd64", d.range(10, 40));
        LinuxCli {
            user: user.to_owned(),
            hostname,
            kernel,
        }
    }

    /// The host name (`uname -n`).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }
}

impl Cli for LinuxCli {
    fn prompt(&self) -> String {
        format!("{}@{}:~$ ", self.user, self.hostname)
    }

    fn execute(&mut self, line: &str) -> Reply {
        self.run(line, "")
    }

    fn prompts_without_terminal(&self) -> bool {
        false
    }

    fn execute_script_line(&mut self, line: &str, number: usize) -> Reply {
        self.run(line, &format!("line {number}: "))
    }
}

impl LinuxCli {
    /// Runs a command; bash's own messages say `-bash: {place}{command}: …`.
    fn run(&mut self, line: &str, place: &str) -> Reply {
        let home = if self.user == "root" {
            "/root".to_owned()
        } else {
            format!("/home/{}", self.user)
        };
        match words(line).as_slice() {
            ["whoami"] => Reply::line(self.user.clone()),
            ["pwd"] => Reply::line(home),
            ["hostname"] => Reply::line(self.hostname.clone()),
            ["uname", "-a"] => Reply::line(format!(
                "Linux {} {} #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01) x86_64 GNU/Linux",
                self.hostname, self.kernel
            )),
            ["uname"] => Reply::line("Linux"),
            ["ls", "-a"] => Reply::ok(
                [".", "..", ".bash_logout", ".bashrc", ".profile", ".ssh"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
            ["ls"] => Reply::empty(),
            ["ls", "-a", path, ..] | ["ls", path, ..] => Reply::error(
                format!("ls: cannot access '{path}': No such file or directory"),
                2,
            ),
            ["echo", ..] => Reply::line(echoed(line)),
            ["true"] => Reply::empty(),
            ["false"] => Reply {
                status: 1,
                ..Reply::empty()
            },
            ["exit"] | ["logout"] => Reply::close(),
            [command, ..] => {
                Reply::error(format!("-bash: {place}{command}: command not found"), 127)
            }
            [] => Reply::empty(),
        }
    }
}

/// What `echo ARGS` prints: the words after `echo` with their quotes removed (`a'-'b` is
/// `a-b`), one space between them.
fn echoed(line: &str) -> String {
    words(line)
        .iter()
        .skip(1)
        .map(|word| word.replace(['\'', '"'], ""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A router of another vendor: `Router>` prompt, `% Invalid input` for most commands.
pub struct RouterCli;

impl Cli for RouterCli {
    fn prompt(&self) -> String {
        "Router>".to_owned()
    }

    fn execute(&mut self, line: &str) -> Reply {
        match words(line).as_slice() {
            ["show", "version"] => Reply::ok(vec![
                "Router Operating System Software, Version 15.2(4)M7".to_owned(),
                "ROM: System Bootstrap, Version 15.0(1r)M16".to_owned(),
                "Router uptime is 3 weeks, 2 days, 4 hours, 10 minutes".to_owned(),
            ]),
            ["exit"] | ["logout"] | ["quit"] => Reply::close(),
            _ => Reply::error("% Invalid input detected at '^' marker.", 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_answers_deterministically_and_fails_unknown_commands() {
        let ip = Ipv4Addr::new(127, 0, 0, 1);
        let mut a = LinuxCli::new(1, ip, "admin");
        let mut b = LinuxCli::new(1, ip, "admin");
        assert_eq!(a.execute("uname -a"), b.execute("uname -a"));
        assert_eq!(a.execute("whoami").lines, ["admin"]);
        assert!(a.prompt().ends_with("$ "));
        let missing = a.execute("show system");
        assert_eq!(missing.status, 127);
        assert_eq!(missing.lines, ["-bash: show: command not found"]);
        assert_eq!(a.execute("ls /nonexistent").status, 2);
        assert_eq!(a.execute("echo a'-'b \"c\"").lines, ["a-b c"]);
        assert!(!a.prompts_without_terminal());
        assert_eq!(
            a.execute_script_line("nosuch x", 3).lines,
            ["-bash: line 3: nosuch: command not found"]
        );
    }
}
