//! The archive's git repository, through libgit2 (the `git2` crate, its C library built from
//! the vendored source, so nothing but a C compiler is needed to build it and no `git` program
//! to run it).
//!
//! Why libgit2 rather than the `git` program: a user's own git configuration cannot reach in
//! (`commit.gpgsign`, hooks, `core.autocrlf` and a missing `user.name` all change what the
//! program does), the commit is made from trees built in memory without staging 10,000 files
//! through an index first, and errors come back typed. Why not gix: committing, and checking
//! a tree out into the work tree with the index kept, are libgit2's most used paths, while
//! they are gix's newest.
//!
//! Atomicity: every object libgit2 writes appears under its final name only when whole, and a
//! branch moves by a lock file renamed over the old ref. A run writes the new objects, then the
//! commit, then syncs the file system (`Repo::sync`) and only then moves the branch: killed
//! before that, the repository is as it was (plus unreferenced objects, which git ignores);
//! killed after, it holds the new commit. The work tree and the index are brought to the
//! branch's tree last, the index replaced at the very end; the next run finds an index that
//! does not hold the branch's tree and repairs the work tree (`Repo::repair`).
//! A lock file (`index.lock`, `<branch>.lock`, ...) left by a killed run would stop every
//! later one; batchsave holds its own lock on the archive, so any such file it finds is stale
//! and removed (and said so).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{ErrorCode, ObjectType, Oid, Repository, RepositoryInitOptions, Signature};

use super::ArchiveError;
use super::pack::Pending;

/// The lock that keeps two batchsave processes out of one archive, inside `.git`.
const LOCK: &str = "batchsave-archive.lock";

/// The end of the name of a work-tree file being written.
const TEMP_SUFFIX: &str = ".batchsave-tmp";

/// The branch a new archive starts on.
const BRANCH: &str = "main";

/// New objects held in memory at most before they are written as a pack, so memory stays
/// bounded whatever the number of radios.
const PACK_BYTES: usize = 32 << 20;

/// Who makes the archive's commits: the tool, whatever the machine's git identity (there may
/// be none).
pub const AUTHOR: (&str, &str) = ("sikscan", "sikscan@localhost");

/// An open, locked archive repository.
pub struct Repo {
    repo: Repository,
    shown: String,
    git_dir: PathBuf,
    pending: Pending,
    _lock: File,
}

impl Repo {
    /// Opens the archive in `dir`, creating the directory and the repository when missing;
    /// returns it, whether it was created, and the stale lock files removed.
    pub fn open(dir: &Path) -> Result<(Repo, bool, Vec<String>), ArchiveError> {
        let shown = dir.display().to_string();
        let io_error = |source: io::Error| ArchiveError::Dir {
            path: shown.clone(),
            source,
        };
        let git = |what: &'static str| {
            let shown = shown.clone();
            move |source: git2::Error| ArchiveError::Git {
                what,
                path: shown.clone(),
                source,
            }
        };
        let mut created = false;
        let mut removed = Vec::new();
        match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(ArchiveError::NotADirectory { path: shown });
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(io_error)?;
            }
            Err(err) => return Err(io_error(err)),
        }
        let repo = if dir.join(".git").exists() {
            // open() does not search the parent directories: DIR itself is the archive.
            Repository::open(dir).map_err(git("opening the repository"))?
        } else {
            if fs::read_dir(dir).map_err(io_error)?.next().is_some() {
                return Err(ArchiveError::NotAnArchive { path: shown });
            }
            created = true;
            let repo =
                Repository::init_opts(dir, RepositoryInitOptions::new().initial_head(BRANCH))
                    .map_err(git("creating the repository"))?;
            // The files are the radios' own text: no line-end conversion, whatever a user's
            // global configuration says, for libgit2 here and for git reading it later.
            let mut config = repo.config().map_err(git("configuring the repository"))?;
            config
                .set_bool("core.autocrlf", false)
                .map_err(git("configuring the repository"))?;
            repo
        };
        if repo.is_bare() {
            return Err(ArchiveError::NotAnArchive { path: shown });
        }
        let git_dir = repo.path().to_owned();
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(git_dir.join(LOCK))
            .map_err(io_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(ArchiveError::Locked { path: shown });
            }
            Err(fs::TryLockError::Error(err)) => return Err(io_error(err)),
        }
        let mut stale = vec![
            "index.lock".to_owned(),
            "HEAD.lock".to_owned(),
            "config.lock".to_owned(),
            "packed-refs.lock".to_owned(),
        ];
        stale.push(format!("{}.lock", branch(&repo)));
        for name in stale {
            let path = git_dir.join(&name);
            match fs::remove_file(&path) {
                Ok(()) => removed.push(path.display().to_string()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_error(err)),
            }
        }
        // A file the work tree was being given when a run was killed.
        if let Some(work_tree) = repo.workdir() {
            for entry in fs::read_dir(work_tree).map_err(io_error)? {
                let name = entry.map_err(io_error)?.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                    let path = work_tree.join(&*name);
                    fs::remove_file(&path).map_err(io_error)?;
                    removed.push(path.display().to_string());
                }
            }
        }
        Ok((
            Repo {
                repo,
                shown,
                git_dir,
                pending: Pending::default(),
                _lock: lock,
            },
            created,
            removed,
        ))
    }

    fn git(&self, what: &'static str) -> impl Fn(git2::Error) -> ArchiveError + '_ {
        move |source| ArchiveError::Git {
            what,
            path: self.shown.clone(),
            source,
        }
    }

    /// The branch's last commit and its tree; None before the first commit.
    pub fn head(&self) -> Result<Option<(Oid, Oid)>, ArchiveError> {
        match self.repo.head() {
            Ok(head) => {
                let commit = head
                    .peel_to_commit()
                    .map_err(self.git("reading the last commit"))?;
                Ok(Some((commit.id(), commit.tree_id())))
            }
            Err(err) if matches!(err.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => {
                Ok(None)
            }
            Err(err) => Err(self.git("reading HEAD")(err)),
        }
    }

    /// The files of a tree and their blobs.
    pub fn files(&self, tree: Oid) -> Result<Vec<(String, Oid)>, ArchiveError> {
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(self.git("reading the last commit's tree"))?;
        Ok(tree
            .iter()
            .filter(|entry| entry.kind() == Some(ObjectType::Blob))
            .filter_map(|entry| Some((entry.name().ok()?.to_owned(), entry.id())))
            .collect())
    }

    /// A blob's content.
    pub fn read(&self, blob: Oid) -> Result<Vec<u8>, ArchiveError> {
        let blob = self
            .repo
            .find_blob(blob)
            .map_err(self.git("reading a file of the last commit"))?;
        Ok(blob.content().to_vec())
    }

    /// Stores `content` as a blob, in the next pack; returns its id.
    pub fn write(&mut self, content: &[u8]) -> Result<Oid, ArchiveError> {
        let oid = Oid::hash_object(ObjectType::Blob, content)
            .map_err(self.git("hashing a configuration"))?;
        self.pending
            .add(oid, content)
            .map_err(|source| ArchiveError::Dir {
                path: self.shown.clone(),
                source,
            })?;
        if self.pending.bytes() >= PACK_BYTES {
            self.write_pack()?;
        }
        Ok(oid)
    }

    /// Writes the objects waiting as one pack.
    fn write_pack(&mut self) -> Result<(), ArchiveError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let stream = self.pending.take_stream();
        let odb = self
            .repo
            .odb()
            .map_err(self.git("opening the object store"))?;
        let mut writer = odb
            .packwriter()
            .map_err(self.git("writing the configurations"))?;
        io::Write::write_all(&mut writer, &stream).map_err(|source| ArchiveError::Dir {
            path: self.shown.clone(),
            source,
        })?;
        writer
            .commit()
            .map_err(self.git("writing the configurations"))?;
        Ok(())
    }

    /// Commits `parent`'s tree with `files` replaced or added, unless that changes nothing;
    /// returns the new commit.
    pub fn commit(
        &mut self,
        parent: Option<(Oid, Oid)>,
        files: &[(String, Oid)],
        message: &str,
    ) -> Result<Option<Oid>, ArchiveError> {
        self.write_pack()?;
        let base = match parent {
            Some((_, tree)) => Some(
                self.repo
                    .find_tree(tree)
                    .map_err(self.git("reading the last commit's tree"))?,
            ),
            None => None,
        };
        let mut builder = self
            .repo
            .treebuilder(base.as_ref())
            .map_err(self.git("building the tree"))?;
        for (name, blob) in files {
            builder
                .insert(name, *blob, 0o100644)
                .map_err(self.git("building the tree"))?;
        }
        let tree = builder.write().map_err(self.git("writing the tree"))?;
        if parent.is_some_and(|(_, old)| old == tree) {
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree)
            .map_err(self.git("reading the new tree"))?;
        let signature =
            Signature::now(AUTHOR.0, AUTHOR.1).map_err(self.git("making the signature"))?;
        let parents = match parent {
            Some((commit, _)) => vec![
                self.repo
                    .find_commit(commit)
                    .map_err(self.git("reading the last commit"))?,
            ],
            None => Vec::new(),
        };
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let commit = self
            .repo
            .commit(None, &signature, &signature, message, &tree, &parent_refs)
            .map_err(self.git("writing the commit"))?;
        // Every object the commit names is on disk before the branch names the commit.
        self.sync()?;
        let branch = branch(&self.repo);
        let log = message.lines().next().unwrap_or("batchsave");
        match parent {
            Some((old, _)) => self
                .repo
                .reference_matching(&branch, commit, true, old, log)
                .map_err(self.git("moving the branch"))?,
            None => self
                .repo
                .reference(&branch, commit, false, log)
                .map_err(self.git("creating the branch"))?,
        };
        self.sync()?;
        Ok(Some(commit))
    }

    /// Repairs what an interrupted run left: when the index does not hold the branch's tree
    /// (a run was killed after its commit, while writing the work tree), the work tree and the
    /// index are made the branch's by a forced checkout. True when a repair was needed.
    pub fn repair(&self) -> Result<bool, ArchiveError> {
        let Some((_, tree)) = self.head()? else {
            return Ok(false);
        };
        let mut index = self.repo.index().map_err(self.git("reading the index"))?;
        let indexed = index.write_tree().map_err(self.git("reading the index"))?;
        if indexed == tree {
            return Ok(false);
        }
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .map_err(self.git("repairing the work tree"))?;
        self.sync()?;
        Ok(true)
    }

    /// Writes `files` (names and blobs of the branch's tree, just committed) into the work
    /// tree, each under a temporary name renamed into place, and records them in the index,
    /// which is replaced last: a kill before that leaves the index at the previous commit, and
    /// the next run's [`Repo::repair`] finishes the job.
    ///
    /// libgit2's checkout would do this too, but it costs a few milliseconds per file
    /// (attributes, filters and checks a file the archive writes whole does not need); it is
    /// kept for the repair.
    pub fn write_work_tree(&self, files: &[(String, Oid)]) -> Result<(), ArchiveError> {
        let work_tree = self.repo.workdir().unwrap_or(Path::new("."));
        let mut index = self.repo.index().map_err(self.git("reading the index"))?;
        for (name, oid) in files {
            let blob = self
                .repo
                .find_blob(*oid)
                .map_err(self.git("reading a configuration back"))?;
            let path = work_tree.join(name);
            let temp = work_tree.join(format!(".{name}{TEMP_SUFFIX}"));
            let write_error = |source: io::Error| ArchiveError::Dir {
                path: path.display().to_string(),
                source,
            };
            fs::write(&temp, blob.content()).map_err(write_error)?;
            fs::rename(&temp, &path).map_err(write_error)?;
            let meta = fs::metadata(&path).map_err(write_error)?;
            index
                .add(&index_entry(name, *oid, &meta))
                .map_err(self.git("updating the index"))?;
        }
        index.write().map_err(self.git("writing the index"))?;
        self.sync()
    }

    /// Flushes the archive's file system (`syncfs`): one wait for the disk instead of an fsync
    /// per object.
    fn sync(&self) -> Result<(), ArchiveError> {
        let dir = File::open(&self.git_dir).map_err(|source| ArchiveError::Dir {
            path: self.shown.clone(),
            source,
        })?;
        // SAFETY: syncfs on a file descriptor we own and keep open for the call.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(ArchiveError::Dir {
                path: self.shown.clone(),
                source: io::Error::last_os_error(),
            });
        }
        Ok(())
    }
}

/// The index entry of a file just written: its stat data, so that git sees it unchanged
/// without reading it again. git keeps the low 32 bits of these numbers.
fn index_entry(name: &str, oid: Oid, meta: &fs::Metadata) -> git2::IndexEntry {
    use std::os::unix::fs::MetadataExt;
    let time = |secs: i64, nanos: i64| git2::IndexTime::new(secs as i32, nanos as u32);
    git2::IndexEntry {
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode: 0o100644,
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.size() as u32,
        id: oid,
        flags: name.len().min(0xfff) as u16,
        flags_extended: 0,
        path: name.as_bytes().to_vec(),
    }
}

/// The blob id git gives `content`, without storing it.
pub fn blob_id(content: &[u8]) -> Oid {
    // Hashing a byte slice cannot fail; a zero id (never a real blob's) would only mean
    // the content is written once more.
    Oid::hash_object(ObjectType::Blob, content).unwrap_or(Oid::ZERO_SHA1)
}

/// The branch HEAD names (`refs/heads/main` in an archive batchsave created).
fn branch(repo: &Repository) -> String {
    repo.find_reference("HEAD")
        .ok()
        .and_then(|head| head.symbolic_target().ok().flatten().map(str::to_owned))
        .unwrap_or_else(|| format!("refs/heads/{BRANCH}"))
}
