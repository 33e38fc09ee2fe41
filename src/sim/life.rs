//! A radio's life between boots: its rollback timer (armed by `set rollback timeout N`,
//! started over by every command in any session, disarmed by `clear rollback`), whether its RF
//! link was taken down, a management cut waiting to happen, and when it last booted; and the
//! wait for what ends a boot ([`Life::fate`]), which the radio's listener task in
//! [`super::server`] acts on (drop the sessions, close the address, reboot).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
// Tokio's clock, so that tests can pause and advance it.
use tokio::time::Instant;

/// The longest rollback timeout `set rollback timeout N` accepts, in seconds (a day).
pub const MAX_TIMEOUT_S: u64 = 86_400;

/// `N` of `set rollback timeout N`: whole seconds from 0 to [`MAX_TIMEOUT_S`], digits only.
pub fn parse_timeout(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n <= MAX_TIMEOUT_S)
}

/// An armed rollback timer: it runs out `timeout` after the last command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    timeout_s: u64,
    deadline: Instant,
}

impl Timer {
    /// A timer of `timeout_s` seconds started at `now`.
    pub fn start(timeout_s: u64, now: Instant) -> Timer {
        Timer {
            timeout_s,
            deadline: now + Duration::from_secs(timeout_s),
        }
    }

    /// A command came at `now`: the full timeout runs again from it.
    pub fn restart(&mut self, now: Instant) {
        self.deadline = now + Duration::from_secs(self.timeout_s);
    }

    /// The timeout it was armed with, in seconds.
    pub fn timeout_s(&self) -> u64 {
        self.timeout_s
    }

    /// When it runs out unless a command comes first.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once it has run out.
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.deadline
    }
}

/// What ends a radio's boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The rollback timer ran out: the radio reboots to its startup configuration.
    Expired,
    /// A session moved the management address away; `session` is its id.
    Cut {
        /// The session that set the address.
        session: u64,
    },
}

#[derive(Debug, Default)]
struct State {
    timer: Option<Timer>,
    rf_down: bool,
    /// A cut asked for by this session and not yet carried out.
    cut: Option<u64>,
    /// The last reboot's end; `None` while the radio runs the boot siksim started it in.
    booted: Option<Instant>,
}

/// What comes next, given the state at `now`: a fate (taken from the state), or when to look
/// again (`None`: not before something changes).
fn next(state: &mut State, now: Instant) -> Result<Fate, Option<Instant>> {
    if let Some(session) = state.cut.take() {
        return Ok(Fate::Cut { session });
    }
    match state.timer {
        Some(timer) if timer.expired(now) => {
            state.timer = None;
            Ok(Fate::Expired)
        }
        Some(timer) => Err(Some(timer.deadline())),
        None => Err(None),
    }
}

/// The life of one radio, shared by its sessions and its listener task.
#[derive(Debug, Default)]
pub struct Life {
    state: Mutex<State>,
    /// Wakes [`Life::fate`] when the timer is armed or a cut is asked for.
    wake: Notify,
}

impl Life {
    /// A radio as siksim starts it: disarmed, RF link as drawn, no cut.
    pub fn new() -> Life {
        Life::default()
    }

    /// Locks the state; a session that panicked while holding it left plain data, so the
    /// poison flag is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A command ran: an armed timer starts over.
    pub fn command(&self) {
        if let Some(timer) = &mut self.lock().timer {
            timer.restart(Instant::now());
        }
    }

    /// Arms the timer for `timeout_s` seconds; 0 disarms it.
    pub fn arm(&self, timeout_s: u64) {
        self.lock().timer = (timeout_s > 0).then(|| Timer::start(timeout_s, Instant::now()));
        self.wake.notify_one();
    }

    /// Disarms the timer.
    pub fn clear(&self) {
        self.lock().timer = None;
    }

    /// The armed timeout in seconds, or `None` when disarmed.
    pub fn rollback(&self) -> Option<u64> {
        self.lock().timer.map(|timer| timer.timeout_s())
    }

    /// Takes the RF link down until the next reboot.
    pub fn take_rf_down(&self) {
        self.lock().rf_down = true;
    }

    /// True when a command took the RF link down in this boot.
    pub fn rf_down(&self) -> bool {
        self.lock().rf_down
    }

    /// Asks for the management cut a session's `set ip` set off.
    pub fn cut(&self, session: u64) {
        self.lock().cut = Some(session);
        self.wake.notify_one();
    }

    /// Seconds since the last reboot ended, or `None` when the radio never rebooted under
    /// siksim (its uptime then counts from the one it was drawn with).
    pub fn since_boot(&self) -> Option<u64> {
        self.lock().booted.map(|at| at.elapsed().as_secs())
    }

    /// The radio has rebooted and runs again from `now`: disarmed, RF link up, no cut.
    pub fn rebooted(&self, now: Instant) {
        *self.lock() = State {
            booted: Some(now),
            ..State::default()
        };
    }

    /// Waits for what ends this boot: the timer running out, or a management cut.
    pub async fn fate(&self) -> Fate {
        loop {
            // Made before the state is read: a notification between the two is kept.
            let woken = self.wake.notified();
            let deadline = match next(&mut self.lock(), Instant::now()) {
                Ok(fate) => return fate,
                Err(deadline) => deadline,
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = woken => {}
                    }
                }
                None => woken.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_whole_seconds_up_to_a_day() {
        assert_eq!(parse_timeout("0"), Some(0));
        assert_eq!(parse_timeout("300"), Some(300));
        assert_eq!(parse_timeout("86400"), Some(86_400));
        for bad in [
            "86401",
            "-1",
            "+5",
            "1.5",
            "5s",
            "",
            " 5",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_command_restarts_the_full_timeout() {
        let start = Instant::now();
        let mut timer = Timer::start(3, start);
        assert!(!timer.expired(start + Duration::from_millis(2999)));
        timer.restart(start + Duration::from_secs(2));
        assert!(!timer.expired(start + Duration::from_secs(4)));
        assert!(timer.expired(start + Duration::from_secs(5)));
        assert_eq!(timer.timeout_s(), 3);
    }

    #[test]
    fn a_cut_comes_first_and_an_expired_timer_is_disarmed() {
        let now = Instant::now();
        let mut state = State {
            timer: Some(Timer::start(2, now)),
            cut: Some(7),
            ..State::default()
        };
        assert_eq!(next(&mut state, now), Ok(Fate::Cut { session: 7 }));
        let later = now + Duration::from_secs(1);
        assert_eq!(
            next(&mut state, later),
            Err(Some(now + Duration::from_secs(2)))
        );
        assert_eq!(
            next(&mut state, now + Duration::from_secs(2)),
            Ok(Fate::Expired)
        );
        assert_eq!(state.timer, None);
        assert_eq!(next(&mut state, later), Err(None));
    }

    #[tokio::test(start_paused = true)]
    async fn the_fate_waits_for_the_last_command_plus_the_timeout() {
        let life = std::sync::Arc::new(Life::new());
        life.arm(3);
        assert_eq!(life.rollback(), Some(3));
        let waiting = tokio::spawn({
            let life = life.clone();
            async move { life.fate().await }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        life.command();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!waiting.is_finished(), "restarted at 2 s: not out at 4 s");
        assert_eq!(waiting.await.expect("joins"), Fate::Expired);
        assert_eq!(life.rollback(), None);
        life.take_rf_down();
        life.rebooted(Instant::now());
        assert!(!life.rf_down());
        assert_eq!(life.since_boot(), Some(0));
    }
}
