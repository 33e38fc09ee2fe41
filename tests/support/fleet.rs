//! Fleet files for siksim (the format src/sim/fleet.rs reads), built from `(addresses,
//! persona)` groups instead of written out by hand in every test.

/// One `[[group]]`: addresses in the ipgen grammar, a persona, and the persona's parameters.
pub struct Group(toml::Table);

/// A group of `addresses` served as `persona`, with the persona's default parameters.
pub fn group(addresses: &str, persona: &str) -> Group {
    let mut table = toml::Table::new();
    table.insert("addresses".to_owned(), addresses.into());
    table.insert("persona".to_owned(), persona.into());
    Group(table)
}

impl Group {
    /// Sets one of the group's parameters (`model`, `name`, `cns`, `login_delay`, `telnet`, …).
    pub fn with(mut self, key: &str, value: impl Into<toml::Value>) -> Group {
        self.0.insert(key.to_owned(), value.into());
        self
    }
}

/// A fleet: fleet-wide credentials (siksim's `admin`/`admin` unless set) and groups in order,
/// the later winning where they overlap.
pub struct Fleet {
    top: toml::Table,
    groups: Vec<toml::Value>,
}

/// A fleet of `groups`, in order.
pub fn fleet(groups: impl IntoIterator<Item = Group>) -> Fleet {
    Fleet {
        top: toml::Table::new(),
        groups: groups
            .into_iter()
            .map(|Group(table)| toml::Value::Table(table))
            .collect(),
    }
}

impl Fleet {
    /// Sets the fleet-wide `user` every radio accepts.
    pub fn user(mut self, user: &str) -> Fleet {
        self.top.insert("user".to_owned(), user.into());
        self
    }

    /// Sets the fleet-wide `password` every radio accepts.
    pub fn password(mut self, password: &str) -> Fleet {
        self.top.insert("password".to_owned(), password.into());
        self
    }

    /// The fleet file's text (TOML).
    pub fn toml(&self) -> String {
        let mut file = self.top.clone();
        file.insert("group".to_owned(), toml::Value::Array(self.groups.clone()));
        toml::to_string(&file).unwrap_or_else(|e| panic!("a fleet serialises as TOML: {e}"))
    }
}
