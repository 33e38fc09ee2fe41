//! The progress line on a terminal: done (of `--total`), ok and failed, hosts/s and ETA.
//! Drawn only when stderr is a terminal, so pipelines and logs never see it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::shared::Progress;

/// A running progress display; dropping it does not clear the line, [`Display::finish`] does.
pub struct Display {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl Display {
    /// Starts redrawing from `progress` a few times a second.
    pub fn start(progress: Arc<Progress>, total: Option<u64>) -> Self {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {pos}/{len} {msg} {per_sec} ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{elapsed_precise} {pos} hosts {msg} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let done = progress.done.load(Ordering::Relaxed);
                let ok = progress.ok.load(Ordering::Relaxed);
                shown.set_position(done);
                shown.set_message(format!("ok {ok} failed {}", done - ok));
            }
        });
        Display { bar, task }
    }

    /// Stops redrawing and clears the line.
    pub fn finish(self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}
