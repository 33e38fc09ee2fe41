//! `--exec 'CMD {}'`: a shell command run on each finished file, as GNU split's `--filter`.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// `sh` could not be started.
    #[error("cannot run sh: {0}")]
    Spawn(io::Error),
    /// The command failed.
    #[error("{0}")]
    Failed(ExitStatus),
}

/// Runs `template` with `sh -c`, each `{}` replaced by the quoted path of the file (appended
/// after a space when there is no `{}`), and waits for it.
///
/// The command's stdin is empty and its stdout goes to batchsave's stderr: batchsave's stdout
/// carries only data (`--tee`).
pub fn run_hook(template: &str, file: &Path) -> Result<(), HookError> {
    let quoted = shell_quote(&file.display().to_string());
    let command = if template.contains("{}") {
        template.replace("{}", &quoted)
    } else {
        format!("{template} {quoted}")
    };
    let stdout = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let status = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::null())
        .stdout(stdout)
        .status()
        .map_err(HookError::Spawn)?;
    if status.success() {
        Ok(())
    } else {
        Err(HookError::Failed(status))
    }
}

/// Quotes a string for `sh`: single quotes, with each `'` written `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_the_command_as_one_word() {
        let dir = tempfile::tempdir().expect("temp dir");
        let odd = dir.path().join("it's a $file;.csv");
        std::fs::write(&odd, "x").expect("written");
        run_hook("test -f {} && cp {} {}.copy", &odd).expect("hook succeeds");
        assert!(dir.path().join("it's a $file;.csv.copy").exists());
        run_hook("rm", &odd).expect("appended path");
        assert!(!odd.exists());
        let err = run_hook("exit 3", &odd).expect_err("failure reported");
        assert_eq!(err.to_string(), "exit status: 3");
    }
}
