//! The progress line on a terminal: done (of `--total`), ok and failed, hosts/s and ETA.
//! Drawn only when stderr is a terminal, so pipelines and logs never see it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::shared::Progress;

/// A running progress display; dropping it does not clear the line, [`Display::finish`] does.
pub struct Display {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl Display {
    /// Starts redrawing from `progress` a few times a second; `deadline` is the most a host
    /// can take, which bounds the time left once every host has started.
    pub fn start(progress: Arc<Progress>, total: Option<u64>, deadline: Duration) -> Self {
        let rate_key = |state: &ProgressState, out: &mut dyn fmt::Write| {
            let _ = out.write_str(&rate(state.pos(), state.elapsed()));
        };
        let bar = match total {
            Some(total) => {
                let in_flight = progress.clone();
                let time_left_key = move |state: &ProgressState, out: &mut dyn fmt::Write| {
                    let left = state.len().unwrap_or(0).saturating_sub(state.pos());
                    let _ = out.write_str(&time_left(
                        left,
                        state.pos(),
                        state.elapsed(),
                        &in_flight,
                        deadline,
                    ));
                };
                let style = ProgressStyle::with_template(
                    "{elapsed_precise} [{wide_bar}] {pos}/{len} {msg} {rate} ETA {time_left}",
                )
                .map(|style| {
                    style
                        .with_key("rate", rate_key)
                        .with_key("time_left", time_left_key)
                })
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                    .with_style(style)
            }
            None => {
                let style =
                    ProgressStyle::with_template("{elapsed_precise} {pos} hosts {msg} {rate}")
                        .map(|style| style.with_key("rate", rate_key))
                        .unwrap_or_else(|_| ProgressStyle::default_spinner());
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
            }
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

/// Hosts per second over the whole run, with one decimal (`390.9 hosts/s`).
fn rate(done: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let per_second = if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    };
    format!("{per_second:.1} hosts/s")
}

/// The time left with `left` hosts to go after `done` in `elapsed`: at the run's rate while
/// hosts wait to start; once the last host has started the rate says nothing (the slow hosts
/// are what is left), so the bound is the deadline of the longest-running host in flight
/// (`≤9s`).
fn time_left(
    left: u64,
    done: u64,
    elapsed: Duration,
    progress: &Progress,
    deadline: Duration,
) -> String {
    if left == 0 {
        return "0s".to_owned();
    }
    if left > progress.in_flight.len() as u64 {
        let seconds = elapsed.as_secs_f64();
        if done == 0 || seconds <= 0.0 {
            return "?".to_owned();
        }
        return format_duration(Duration::from_secs_f64(left as f64 * seconds / done as f64));
    }
    let bound = progress
        .in_flight
        .oldest()
        .map_or(deadline, |oldest| deadline.saturating_sub(oldest.elapsed()));
    format!("≤{}", format_duration(bound))
}

/// Whole seconds, at least one, as `humantime` writes them (`1m 30s`).
fn format_duration(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs().max(1))).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_has_one_decimal() {
        assert_eq!(rate(3909, Duration::from_secs(10)), "390.9 hosts/s");
        assert_eq!(rate(0, Duration::ZERO), "0.0 hosts/s");
    }

    #[test]
    fn the_time_left_follows_the_rate_then_the_deadline_of_the_tail() {
        let progress = Progress::default();
        let minute = Duration::from_secs(60);
        let deadline = Duration::from_secs(30);
        assert_eq!(time_left(300, 100, minute, &progress, deadline), "3m");
        assert_eq!(time_left(5, 0, minute, &progress, deadline), "?");
        // The last two hosts have started: the rate would say 1s; their deadline says more.
        for seq in [8, 9] {
            let addr = format!("127.0.0.{seq}:22").parse().expect("an address");
            progress.in_flight.start(seq, addr, None);
        }
        let left = time_left(2, 8, Duration::from_secs(4), &progress, deadline);
        assert!(left == "≤30s" || left == "≤29s", "{left}");
        assert_eq!(time_left(0, 10, minute, &progress, deadline), "0s");
    }
}
