//! What wakes the daemon, on one channel: file events, stop signals and the
//! sync hub. A burst of file events is gathered into one consolidation.

use notify::Event;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub(crate) enum Wake {
    /// The notifier's report (an error too: it may mean events were lost).
    Fs(notify::Result<Event>),
    /// SIGTERM or SIGINT.
    Stop(i32),
    /// The hub has news from another device, or a failed hub sync is due
    /// for a retry.
    Hub,
    /// `chittysync consolidate` asks for the picture (see [`crate::control`]).
    Control(crate::control::Reply),
}

/// Requests that came on the control socket during a burst, answered once
/// it is taken in (compared by number only: a reply channel has no value).
#[derive(Debug, Default)]
pub(crate) struct Asks(pub Vec<crate::control::Reply>);

impl PartialEq for Asks {
    fn eq(&self, other: &Asks) -> bool {
        self.0.len() == other.0.len()
    }
}

impl Eq for Asks {}

/// What came during a burst.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Burst {
    /// Events that can mean a source changed.
    pub relevant: usize,
    /// A stop signal arrived: consolidate this burst, then stop.
    pub stop: Option<i32>,
    /// The paths the events named.
    pub paths: BTreeSet<PathBuf>,
    /// An event named no path, or the notifier reported an error: events may
    /// have been lost, so the paths alone do not tell what changed.
    pub lost: bool,
    /// When the last relevant event came (the quiet period counts from it).
    pub last: Option<Instant>,
    /// Control requests that came meanwhile.
    pub asks: Asks,
}

impl Burst {
    /// Takes in one relevant event.
    pub(crate) fn note(&mut self, event: &notify::Result<Event>) {
        self.relevant += 1;
        self.last = Some(Instant::now());
        match event {
            Ok(event) if !event.paths.is_empty() => {
                self.paths.extend(event.paths.iter().cloned());
            }
            _ => self.lost = true,
        }
    }
}

/// Gathers events into `burst` until `quiet` has passed since its last
/// relevant event, or `deadline` (a session writing without pause must still
/// be seen), or a stop signal.
pub(crate) fn gather(
    rx: &Receiver<Wake>,
    burst: &mut Burst,
    quiet: Duration,
    deadline: Instant,
    mut relevant: impl FnMut(&notify::Result<Event>) -> bool,
) {
    let began = Instant::now();
    loop {
        let settle_at = burst.last.unwrap_or(began) + quiet;
        let now = Instant::now();
        let until = settle_at.min(deadline);
        if now >= until || burst.stop.is_some() {
            return;
        }
        match rx.recv_timeout(until - now) {
            Ok(Wake::Fs(event)) => {
                if relevant(&event) {
                    burst.note(&event);
                }
            }
            Ok(Wake::Stop(signal)) => burst.stop = Some(signal),
            // The consolidation that ends the burst syncs with the hub anyway.
            Ok(Wake::Hub) => {}
            Ok(Wake::Control(reply)) => burst.asks.0.push(reply),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::EventKind;
    use std::sync::mpsc::channel;

    fn event() -> Wake {
        Wake::Fs(Ok(Event::new(EventKind::Any)))
    }

    fn gathered(rx: &Receiver<Wake>, quiet: Duration, relevant: bool) -> Burst {
        let mut burst = Burst::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        gather(rx, &mut burst, quiet, deadline, |_| relevant);
        burst
    }

    #[test]
    fn a_burst_ends_when_quiet_or_stopped() {
        let (tx, rx) = channel();
        for _ in 0..50 {
            tx.send(event()).unwrap();
        }
        let burst = gathered(&rx, Duration::from_millis(20), true);
        assert_eq!(burst.relevant, 50);
        assert_eq!(burst.stop, None);

        tx.send(event()).unwrap();
        tx.send(Wake::Stop(15)).unwrap();
        tx.send(event()).unwrap();
        let burst = gathered(&rx, Duration::from_secs(5), true);
        assert_eq!(burst.relevant, 1);
        assert_eq!(burst.stop, Some(15));
        assert!(burst.lost, "an event without paths may stand for lost ones");
    }

    #[test]
    fn a_burst_remembers_the_paths_it_saw() {
        let (tx, rx) = channel();
        for name in ["a.json", "b.json", "a.json"] {
            let event = Event::new(EventKind::Any).add_path(PathBuf::from(name));
            tx.send(Wake::Fs(Ok(event))).unwrap();
        }
        let burst = gathered(&rx, Duration::from_millis(20), true);
        let paths: Vec<_> = burst.paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(paths, vec!["a.json", "b.json"]);
        assert!(!burst.lost);
    }

    #[test]
    fn irrelevant_events_do_not_extend_a_burst() {
        let (tx, rx) = channel();
        tx.send(event()).unwrap();
        let burst = gathered(&rx, Duration::from_millis(10), false);
        assert_eq!(burst.relevant, 0);
    }

    #[test]
    fn the_quiet_period_counts_from_the_last_event() {
        let (tx, rx) = channel();
        let mut burst = Burst {
            last: Some(Instant::now() - Duration::from_secs(60)),
            ..Burst::default()
        };
        tx.send(event()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(3600);
        gather(&rx, &mut burst, Duration::from_secs(30), deadline, |_| true);
        assert_eq!(
            burst.relevant, 0,
            "quiet for a minute already: nothing more is waited for"
        );

        let mut burst = Burst::default();
        let deadline = Instant::now() + Duration::from_secs(3600);
        gather(&rx, &mut burst, Duration::from_millis(20), deadline, |_| {
            true
        });
        assert_eq!(burst.relevant, 1, "the queued event, then 20 ms of quiet");
    }
}
