//! A real dropbear SSH server (Debian's dropbear-bin) on 127.0.0.1, in the foreground with its
//! own ed25519 host key, logging to stderr; stopped when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{require, require_root};

pub struct Dropbear {
    child: Child,
    pub port: u16,
    /// Its host key and pid file, removed when dropped.
    _dir: tempfile::TempDir,
    /// What dropbear logged so far, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
}

impl Dropbear {
    /// Starts dropbear on 127.0.0.1:`port`, accepting passwords (from /etc/shadow) and keys
    /// (from ~user/.ssh/authorized_keys), with `banner` (a file) as its userauth banner when
    /// given, and waits until the port accepts connections.
    #[track_caller]
    pub fn start(port: u16, banner: Option<&Path>) -> Dropbear {
        require_root("dropbear logs users in: it reads /etc/shadow and becomes them");
        let dropbear = require("dropbear");
        let dropbearkey = require("dropbearkey");
        let dir = tempfile::tempdir().expect("temp dir");
        let host_key = dir.path().join("host_key");
        let made = Command::new(dropbearkey)
            .args(["-t", "ed25519", "-f"])
            .arg(&host_key)
            .output()
            .expect("dropbearkey runs");
        assert!(
            made.status.success(),
            "dropbearkey: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let mut command = Command::new(dropbear);
        // -F: foreground, -E: log to stderr, -P: a pid file of its own, not /var/run's.
        command
            .args(["-F", "-E", "-p", &format!("127.0.0.1:{port}"), "-r"])
            .arg(&host_key)
            .arg("-P")
            .arg(dir.path().join("dropbear.pid"));
        if let Some(banner) = banner {
            command.arg("-b").arg(banner);
        }
        let mut child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dropbear starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let lines = log.clone();
        // Keeps draining, so dropbear never blocks on (or dies of) its stderr.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("the log").push(line);
            }
        });
        let mut server = Dropbear {
            child,
            port,
            _dir: dir,
            log,
        };
        let ready_by = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "dropbear on port {port} exited ({status}):\n{}",
                    server.log()
                );
            }
            assert!(
                Instant::now() < ready_by,
                "dropbear on port {port} not listening within 30s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The address to feed sikprobe: `127.0.0.1:PORT` and a newline.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}\n", self.port)
    }

    /// What dropbear logged so far, one line each.
    pub fn log(&self) -> String {
        self.log.lock().expect("the log").join("\n")
    }
}
impl Drop for Dropbear {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // exited already: its pid may belong to another process by now
        }
        // The whole process group: the listener and the process it forked for each connection
        // (a session's own processes are in sessions of their own, ended by dropbear).
        // SAFETY: kill(2) on the process group of our own child, which leads it and is not
        // reaped yet, so the group's id is still its own.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
