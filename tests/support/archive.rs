//! The configuration archive as a user meets it: the real batchsave writes it (`--configs
//! DIR`) and the real `git` program reads it, both run with an empty HOME and no system git
//! configuration, so no git identity is configured anywhere; the commit messages parsed back
//! into their counts and lists; killing a batchsave at a moment a test detects.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sikscan::record::Record;

pub const BATCHSAVE: &str = env!("CARGO_BIN_EXE_batchsave");

/// Generous bound for waiting on a binary: never reached unless it is broken.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A scratch place: the archive, an empty HOME, and whatever else a test keeps beside them
/// (snapshots, batch directories).
pub struct Place {
    pub dir: tempfile::TempDir,
}

impl Place {
    pub fn new() -> Place {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).expect("an empty HOME");
        Place { dir }
    }

    /// The archive's directory (absent until batchsave creates it).
    pub fn archive(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    /// The archive's directory as an argument.
    pub fn archive_arg(&self) -> String {
        self.archive().to_str().expect("UTF-8").to_owned()
    }

    /// A path beside the archive.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `command` as a user without any git setup would: an empty HOME, no system or XDG
    /// configuration, no identity in the environment.
    pub fn env(&self, command: &mut Command) {
        command
            .env("HOME", self.dir.path().join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env_remove("EMAIL");
    }

    /// `batchsave ARGS` in this place's environment, its standard streams left to the caller.
    pub fn batchsave_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BATCHSAVE);
        self.env(&mut command);
        command.args(args);
        command
    }

    /// Starts `batchsave ARGS` with every standard stream piped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.batchsave_command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("batchsave starts")
    }

    /// batchsave ARGS with `records` on stdin.
    pub fn batchsave(&self, args: &[&str], records: &[Record]) -> Output {
        let mut child = self.spawn(args);
        let mut stdin = child.stdin.take().expect("stdin piped");
        let input = ndjson(records);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("batchsave finishes");
        writer.join().expect("the writer thread");
        out
    }

    /// `batchsave --configs ARCHIVE` with `records`, which must succeed; its stderr.
    pub fn save(&self, records: &[Record]) -> String {
        let out = self.batchsave(&["--configs", &self.archive_arg()], records);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "batchsave failed: {stderr}");
        assert!(out.stdout.is_empty(), "stdout is for data only");
        stderr
    }

    /// `git -C ARCHIVE ARGS`, which must succeed; its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// The real git run on the archive as a user without any git setup would, however it ends.
    pub fn git_output(&self, args: &[&str]) -> Output {
        let git = super::require("git");
        let mut command = Command::new(git);
        self.env(&mut command);
        command
            .arg("-C")
            .arg(self.archive())
            .args(args)
            .output()
            .expect("git runs")
    }

    /// How many commits the branch holds.
    pub fn commits(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .expect("a count")
    }

    /// The files the last commit touched, sorted.
    pub fn touched(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .git(&["diff", "--name-only", "HEAD~1", "HEAD"])
            .lines()
            .map(str::to_owned)
            .collect();
        files.sort();
        files
    }

    /// The index of the last commit, as rows of named cells, keyed by file.
    pub fn index(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.index_at("HEAD")
    }

    /// The index of commit `rev`, as rows of named cells, keyed by file.
    pub fn index_at(&self, rev: &str) -> BTreeMap<String, BTreeMap<String, String>> {
        let text = self.git(&["show", &format!("{rev}:index.tsv")]);
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
        lines
            .map(|line| {
                let row: BTreeMap<String, String> = header
                    .iter()
                    .zip(line.split('\t'))
                    .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                    .collect();
                assert_eq!(row.len(), header.len(), "a whole row: {line}");
                (row["file"].clone(), row)
            })
            .collect()
    }

    /// The message of commit `rev`, parsed.
    pub fn message(&self, rev: &str) -> Message {
        Message::parse(&self.git(&["log", "-1", "--format=%B", rev]))
    }

    /// `git fsck` finds nothing wrong.
    #[track_caller]
    pub fn assert_valid(&self) {
        let out = self.git_output(&["fsck", "--full", "--strict", "--no-dangling"]);
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "git fsck: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The work tree and the index are the last commit's.
    #[track_caller]
    pub fn assert_clean(&self) {
        assert_eq!(self.git(&["status", "--porcelain"]), "", "work tree = HEAD");
    }
}

/// Records as NDJSON, one line each.
pub fn ndjson(records: &[Record]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        serde_json::to_writer(&mut bytes, record).expect("a record serialises");
        bytes.push(b'\n');
    }
    bytes
}

/// A commit message of the archive, as `git log` shows it:
///
/// ```text
/// 3 changed, 0 appeared, 1 could not be read, 4 with unsaved changes (8 radios read)
///
/// changed:
///   127.0.0.1.cfg  name  SN
/// ```
#[derive(Debug)]
pub struct Message {
    /// The first line.
    pub subject: String,
    /// The subject's counts by their words (`changed`, `could not be read`, `with unsaved
    /// changes`, `radios read`, …).
    counts: BTreeMap<String, usize>,
    /// Each section's title (without its colon) and the files it lists, in order.
    sections: Vec<(String, Vec<String>)>,
}

impl Message {
    /// Parses a message; panics on a subject that is not a list of counts.
    pub fn parse(text: &str) -> Message {
        let mut lines = text.lines();
        let subject = lines.next().expect("a subject").to_owned();
        let counted = subject.replacen(" (", ", ", 1).replace(')', "");
        let counts = counted
            .split(", ")
            .filter(|part| *part != "interrupted")
            .map(|part| {
                let (number, words) = part
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("not a count: {part:?} in {subject:?}"));
                let number = number
                    .parse()
                    .unwrap_or_else(|_| panic!("not a count: {part:?} in {subject:?}"));
                (words.replace("radio read", "radios read"), number)
            })
            .collect();
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in lines {
            if let Some(item) = line.strip_prefix("  ") {
                let file = item.split([' ', ':']).next().unwrap_or_default();
                let (_, files) = sections.last_mut().expect("a listed radio under a title");
                files.push(file.to_owned());
            } else if let Some(title) = line.strip_suffix(':') {
                sections.push((title.to_owned(), Vec::new()));
            }
        }
        Message {
            subject,
            counts,
            sections,
        }
    }

    /// The subject's count for `words` (`changed`, `could not be read`, …).
    #[track_caller]
    pub fn count(&self, words: &str) -> usize {
        *self
            .counts
            .get(words)
            .unwrap_or_else(|| panic!("no count of {words:?} in {:?}", self.subject))
    }

    /// The files listed in the section whose title starts with `title`; none when there is no
    /// such section.
    pub fn listed(&self, title: &str) -> Vec<String> {
        self.sections
            .iter()
            .find(|(name, _)| name.starts_with(title))
            .map(|(_, files)| files.clone())
            .unwrap_or_default()
    }
}

/// Polls until `done` holds while `child` runs; false when it ended first.
pub fn while_running(child: &mut Child, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if child.try_wait().expect("waitable").is_some() {
            return false;
        }
        assert!(start.elapsed() < PATIENCE, "timed out");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// SIGKILL, then reaps; true when the signal ended the process (it had not exited already).
pub fn kill_9(child: &mut Child) -> bool {
    use std::os::unix::process::ExitStatusExt;
    // kill() fails only on a child already reaped, which try_wait in while_running may have done.
    let _ = child.kill();
    let status = child.wait().expect("reaped");
    status.signal() == Some(libc::SIGKILL)
}
