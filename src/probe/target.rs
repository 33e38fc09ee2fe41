//! sikprobe's input lines: `ip`, `ip:port`, `[v6]:port` (or a bare IPv6 address).

use std::net::{IpAddr, SocketAddr};

/// What one input line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputLine {
    /// Blank, or a `#` comment: produces no record.
    Blank,
    /// A target; `raw` keeps the line when it was more than a plain address.
    Target {
        /// Where to connect.
        addr: SocketAddr,
        /// The input line, when it was not just the address.
        raw: Option<String>,
    },
    /// Not an address: produces an `invalid-input` record.
    Invalid {
        /// Why.
        reason: String,
    },
}

/// Reads one line, with `default_port` for lines that name none.
pub fn parse_line(line: &str, default_port: u16) -> InputLine {
    let text = line.split_once('#').map_or(line, |(text, _)| text).trim();
    if text.is_empty() {
        return InputLine::Blank;
    }
    let raw = (text != line.trim() || text.contains(':') && text.parse::<IpAddr>().is_err())
        .then(|| line.trim().to_owned());
    if let Ok(ip) = text.parse::<IpAddr>() {
        return InputLine::Target {
            addr: SocketAddr::new(ip, default_port),
            raw,
        };
    }
    if let Ok(addr) = text.parse::<SocketAddr>()
        && addr.port() != 0
    {
        return InputLine::Target { addr, raw };
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
        && let Ok(ip) = inner.parse::<IpAddr>()
    {
        return InputLine::Target {
            addr: SocketAddr::new(ip, default_port),
            raw,
        };
    }
    InputLine::Invalid {
        reason: why_not_a_target(text),
    }
}

/// What is wrong with a line that is not a target, as precisely as the line shows.
fn why_not_a_target(text: &str) -> String {
    // `host:port` with a valid host: the port is what is wrong.
    let host_and_port = match text.strip_prefix('[') {
        Some(rest) => rest.split_once("]:"),
        None => text
            .rsplit_once(':')
            .filter(|(host, _)| !host.contains(':')),
    };
    if let Some((host, port)) = host_and_port
        && host.parse::<IpAddr>().is_ok()
    {
        return format!("the port '{port}' is not a number from 1 to 65535");
    }
    if text.contains('/') || (text.contains('-') && text.starts_with(|c: char| c.is_ascii_digit()))
    {
        return "not an address: a range (expand ranges with ipgen first: ipgen SPEC | sikprobe)"
            .to_owned();
    }
    let host = host_and_port.map_or(text, |(host, _)| host);
    if host.contains(|c: char| c.is_ascii_alphabetic())
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return format!(
            "'{host}' is a host name, and sikprobe does not resolve names: give addresses \
             (for example getent ahostsv4 {host} | awk '{{print $1}}' | sort -u | sikprobe)"
        );
    }
    "not an address, ip:port or [ipv6]:port".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(line: &str) -> (SocketAddr, Option<String>) {
        match parse_line(line, 22) {
            InputLine::Target { addr, raw } => (addr, raw),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn reads_addresses_with_and_without_ports() {
        assert_eq!(target("10.0.0.1"), ("10.0.0.1:22".parse().unwrap(), None));
        assert_eq!(
            target("10.0.0.1:2222"),
            (
                "10.0.0.1:2222".parse().unwrap(),
                Some("10.0.0.1:2222".into())
            )
        );
        assert_eq!(target("::1"), ("[::1]:22".parse().unwrap(), None));
        assert_eq!(target("[::1]:2200").0, "[::1]:2200".parse().unwrap());
        assert_eq!(target("[::1]").0, "[::1]:22".parse().unwrap());
        assert_eq!(
            target(" 10.0.0.1 # core ").1,
            Some("10.0.0.1 # core".into())
        );
    }

    #[test]
    fn blank_comment_and_garbage_lines() {
        assert_eq!(parse_line("   ", 22), InputLine::Blank);
        assert_eq!(parse_line("# x", 22), InputLine::Blank);
        assert!(matches!(
            parse_line("10.0.0.0/24", 22),
            InputLine::Invalid { .. }
        ));
        assert!(matches!(
            parse_line("radio-7", 22),
            InputLine::Invalid { .. }
        ));
        assert!(matches!(
            parse_line("10.0.0.1:99999", 22),
            InputLine::Invalid { .. }
        ));
    }

    fn reason(line: &str) -> String {
        match parse_line(line, 22) {
            InputLine::Invalid { reason } => reason,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn invalid_lines_say_what_is_wrong() {
        for (line, port) in [
            ("127.77.0.1:22x", "22x"),
            ("127.77.0.1:0", "0"),
            ("127.77.0.1:65536", "65536"),
            ("127.77.0.1:", ""),
            ("[::1]:http", "http"),
        ] {
            assert_eq!(
                reason(line),
                format!("the port '{port}' is not a number from 1 to 65535"),
                "{line}"
            );
        }
        for name in ["radio-7", "mast7.example.net", "radio-7:22"] {
            let why = reason(name);
            assert!(
                why.starts_with(&format!(
                    "'{}' is a host name, and sikprobe does not resolve names",
                    name.trim_end_matches(":22")
                )),
                "{name}: {why}"
            );
        }
        for range in ["10.0.0.0/24", "10.0.0.1-10.0.0.9"] {
            assert!(reason(range).contains("ipgen SPEC | sikprobe"), "{range}");
        }
        assert_eq!(
            reason("10.0.0.300"),
            "not an address, ip:port or [ipv6]:port"
        );
    }
}
