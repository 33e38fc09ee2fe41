//! Which usernames and passwords to try on which address.
//!
//! `--credentials FILE` takes batchscanner's network file (the grammar README.md's "Migrating from batchscanner" section shows): `username = …` and
//! `password = …` lines scope the address specifications below them. An address covered by
//! several sets tries them in file order until one logs in; an address covered by none uses
//! the command line's user and password.

use std::io::BufRead;
use std::net::IpAddr;

use crate::pipe::InputName;
use crate::secret::Secret;
use crate::targets::source::{LineFault, read_lines};
use crate::targets::{AddrSet, Hosts, LineKind, LocatedError, Origin, spec};
use crate::transport::Login;

/// The credential sets of a run.
#[derive(Debug, Clone)]
pub struct CredentialBook {
    default: Login,
    scoped: Vec<(AddrSet, Login)>,
}

impl CredentialBook {
    /// Every address uses `default`.
    pub fn single(default: Login) -> Self {
        CredentialBook {
            default,
            scoped: Vec::new(),
        }
    }

    /// Reads a network file; `default` supplies the username and password in force before the
    /// file's first `username =` / `password =` line, and for addresses it does not cover.
    pub fn load(
        default: Login,
        name: &InputName,
        reader: impl BufRead,
    ) -> Result<Self, CredentialsError> {
        let mut user = default.user.clone();
        let mut password = default.password.clone();
        let mut scoped = Vec::new();
        let mut errors = Vec::new();
        read_lines(name, reader, |origin, line| match line {
            Ok(LineKind::Blank) => {}
            Ok(LineKind::Username(value)) => user = value.to_owned(),
            Ok(LineKind::Password(value)) => password = Secret::new(value),
            Ok(LineKind::Spec(token)) => match spec::parse_checked(token) {
                Ok(parsed) => {
                    let mut ranges = Vec::new();
                    parsed.ranges(Hosts::All, &mut ranges);
                    let login = Login {
                        user: user.clone(),
                        password: password.clone(),
                    };
                    scoped.push((AddrSet::from_ranges(ranges), login));
                }
                Err(err) => errors.push(located(origin, token, err.into())),
            },
            Err((text, fault)) => errors.push(located(origin, &text, fault)),
        })
        .map_err(|source| CredentialsError::Read {
            name: name.to_string(),
            source,
        })?;
        if errors.is_empty() {
            Ok(CredentialBook { default, scoped })
        } else {
            Err(CredentialsError::Invalid(errors))
        }
    }

    /// The logins to try on `ip`, in order, without repeats.
    pub fn logins_for(&self, ip: IpAddr) -> Vec<Login> {
        let mut logins: Vec<Login> = Vec::new();
        for (set, login) in &self.scoped {
            if set.contains(ip) && !logins.contains(login) {
                logins.push(login.clone());
            }
        }
        if logins.is_empty() {
            logins.push(self.default.clone());
        }
        logins
    }
}

fn located(origin: Origin, token: &str, reason: LineFault) -> LocatedError {
    LocatedError {
        origin,
        token: token.trim().to_owned(),
        reason,
    }
}

/// A credentials file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Reading it failed.
    #[error("reading {name}: {source}")]
    Read {
        /// The file.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Some lines are not valid (each error names file, line and token).
    #[error("invalid credentials file:\n{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<LocatedError>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(user: &str, password: &str) -> Login {
        Login {
            user: user.into(),
            password: Secret::new(password),
        }
    }

    #[test]
    fn scopes_apply_downwards_and_overlaps_try_in_order() {
        let file =
            "10.0.0.1\nusername = ops\npassword = p1\n10.0.0.0/30\npassword = p2\n10.0.0.2\n";
        let book = CredentialBook::load(
            login("admin", "admin"),
            &InputName::File("creds.txt".into()),
            file.as_bytes(),
        )
        .expect("valid file");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(
            book.logins_for(ip("10.0.0.1")),
            [login("admin", "admin"), login("ops", "p1")]
        );
        assert_eq!(
            book.logins_for(ip("10.0.0.2")),
            [login("ops", "p1"), login("ops", "p2")]
        );
        assert_eq!(book.logins_for(ip("10.9.9.9")), [login("admin", "admin")]);
    }

    #[test]
    fn errors_name_the_line_and_never_the_password() {
        let file = "password = hunter2\n10.0.0.1/24\n";
        let err = CredentialBook::load(
            login("admin", "admin"),
            &InputName::File("creds.txt".into()),
            file.as_bytes(),
        )
        .expect_err("host bits set");
        let text = err.to_string();
        assert!(text.contains("creds.txt:2: '10.0.0.1/24'"), "{text}");
        assert!(!text.contains("hunter2"));
    }
}
