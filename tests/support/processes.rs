//! Finding a test's own processes: by what their command line mentions (a TMPDIR of the
//! test's own, which ssh's control paths contain) and by their TCP connection to a test
//! server's port (an ssh master that stopped listening renames itself `ssh: [stopped mux]`
//! and clobbers its environment, so nothing else names it).

use std::time::{Duration, Instant};

/// The processes that still mention `text` after waiting up to `grace` for them to go (a
/// master told to stop takes a moment to exit).
pub fn processes_still_mentioning(text: &str, grace: Duration) -> Vec<String> {
    let gone_by = Instant::now() + grace;
    let mut left = processes_mentioning(text);
    while !left.is_empty() && Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(50));
        left = processes_mentioning(text);
    }
    left
}

/// The command lines of live processes that mention `text`.
pub fn processes_mentioning(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(text) {
            found.push(cmdline);
        }
    }
    found
}

/// The command lines of live ssh processes with a TCP connection to 127.0.0.1:`port`.
pub fn ssh_connected_to(port: u16) -> Vec<String> {
    // /proc/net/tcp: "sl local_address rem_address st ... inode", addresses as hex IP:PORT.
    let remote = format!("0100007F:{port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01"))
                .then(|| fields.get(9).map(|inode| format!("socket:[{inode}]")))
                .flatten()
        })
        .collect();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != "ssh" {
            continue;
        }
        let connected = std::fs::read_dir(entry.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| {
                inodes
                    .iter()
                    .any(|inode| target.as_os_str() == inode.as_str())
            });
        if connected {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push(cmdline.trim_end().to_owned());
        }
    }
    found
}

/// The ssh processes still connected to 127.0.0.1:`port` after waiting up to `grace` for them
/// to go (a master told to stop takes a moment to exit).
pub fn ssh_still_connected_to(port: u16, grace: Duration) -> Vec<String> {
    let gone_by = Instant::now() + grace;
    let mut left = ssh_connected_to(port);
    while !left.is_empty() && Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(50));
        left = ssh_connected_to(port);
    }
    left
}

/// The pids and command lines of live processes whose real user is `uid`.
pub fn processes_of(uid: u32) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let real_uid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            .and_then(|id| id.parse::<u32>().ok());
        if real_uid == Some(uid) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push((pid, cmdline.trim_end().to_owned()));
        }
    }
    found
}
