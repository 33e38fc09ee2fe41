//! Starting and ending a run: the open-files limit, the runtime, the OpenSSH transport's
//! set-up, signals, the progress line, the engine, and the summary on stderr and in
//! `--summary FILE`.

use std::sync::Arc;

use anyhow::Context;

use super::args::ProbeConfig;
use super::context::ProbeContext;
use super::engine;
use super::progress::Display;
use super::resume::DoneSet;
use super::shared::{Progress, Shutdown};
use crate::pipe::{self, Exit};
use crate::transport::openssh::OpensshOptions;

/// Runs the probe as configured, to the last record; the exit status follows the shared
/// conventions (interrupted: 130; a closed stdout: 0; a staged rollout that stopped: 1).
pub fn run(config: ProbeConfig) -> anyhow::Result<Exit> {
    let ProbeConfig {
        mut context,
        openssh,
        engine: options,
        done,
        input,
        quiet,
        total,
        summary,
        skip_done,
    } = config;
    if !quiet && skip_done {
        note_done(&done);
    }
    let wanted_files = options.concurrency as u64 + 64;
    let limit = pipe::raise_open_files_limit(wanted_files);
    if limit < wanted_files && !quiet {
        pipe::warn(format!(
            "-j {} needs about {wanted_files} open files but the limit is {limit}; \
             hosts beyond it will fail with io-error (raise 'ulimit -n' or lower -j)",
            options.concurrency
        ));
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if let Some(settings) = openssh {
        // The askpass listener runs on the runtime.
        let _entered = runtime.enter();
        context.openssh = Some(OpensshOptions::new(settings)?);
    }
    let context = Arc::new(context);
    runtime.block_on(async {
        let shutdown = Arc::new(Shutdown::default());
        watch_signals(shutdown.clone(), context.clone(), quiet)?;
        let progress = Arc::new(Progress::default());
        let display = (!quiet && pipe::stderr_is_terminal())
            .then(|| Display::start(progress.clone(), total, context.deadline));
        let outcome =
            engine::run(input, context, options, Arc::new(done), shutdown, progress).await;
        if let Some(display) = display {
            display.finish();
        }
        let outcome = outcome?;
        if !quiet && !outcome.stdout_closed {
            pipe::note(outcome.summary.line());
        }
        if let Some(path) = &summary {
            let json = serde_json::to_vec_pretty(&outcome.summary)?;
            std::fs::write(path, json)
                .with_context(|| format!("writing the summary to {}", path.display()))?;
        }
        Ok(if outcome.stdout_closed {
            Exit::Success
        } else if outcome.summary.interrupted {
            Exit::Interrupted
        } else if outcome.summary.stopped.is_some() || !outcome.summary.unconfirmed.is_empty() {
            Exit::Partial
        } else {
            Exit::Success
        })
    })
}

/// What `--skip-done` found, on stderr.
fn note_done(done: &DoneSet) {
    pipe::note(format!(
        "--skip-done: {} hosts already done in {} files{}",
        done.len(),
        done.files,
        if done.unreadable_lines > 0 {
            format!(" ({} lines were not records)", done.unreadable_lines)
        } else {
            String::new()
        }
    ));
    for path in &done.missing {
        pipe::note(format!(
            "--skip-done: {} does not exist yet, so nothing there is done",
            path.display()
        ));
    }
}

/// First SIGINT/SIGTERM: stop reading and dispatching, let the hosts in flight finish; a
/// second: abandon them (each gets an `interrupted` record), taking the run's ssh processes
/// down first (they are in process groups of their own, so the terminal's signal did not
/// reach them); a third: exit at once, for a run that cannot even write its records.
fn watch_signals(
    shutdown: Arc<Shutdown>,
    context: Arc<ProbeContext>,
    quiet: bool,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("watching SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("watching SIGTERM")?;
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            seen += 1;
            match seen {
                1 => {
                    if !quiet {
                        pipe::note(
                            "interrupted: finishing the hosts in flight (again to abandon them)",
                        );
                    }
                    shutdown.request();
                }
                2 => {
                    if !quiet {
                        pipe::note(
                            "interrupted again: abandoning the hosts in flight, each recorded \
                             as 'interrupted' (again to quit at once)",
                        );
                    }
                    // Marked first: a host whose ssh dies of the kill below must find the run
                    // abandoned, or it would be recorded as the i/o error the kill caused.
                    shutdown.abandon();
                    if let Some(openssh) = &context.openssh {
                        openssh.abandon();
                    }
                }
                _ => std::process::exit(i32::from(Exit::Interrupted.code())),
            }
        }
    });
    Ok(())
}
