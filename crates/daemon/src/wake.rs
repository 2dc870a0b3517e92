//! What wakes the daemon, on one channel: file events, stop signals and the
//! sync hub. A
//! burst of file events is gathered into one consolidation.

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
}

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
}

impl Burst {
    /// Takes in one relevant event.
    pub(crate) fn note(&mut self, event: &notify::Result<Event>) {
        self.relevant += 1;
        match event {
            Ok(event) if !event.paths.is_empty() => {
                self.paths.extend(event.paths.iter().cloned());
            }
            _ => self.lost = true,
        }
    }
}

/// Gathers events until `quiet` passes without a relevant one, or `longest`
/// since the burst began (a session writing without pause must still be
/// seen), or a stop signal.
pub(crate) fn gather(
    rx: &Receiver<Wake>,
    quiet: Duration,
    longest: Duration,
    mut relevant: impl FnMut(&notify::Result<Event>) -> bool,
) -> Burst {
    let began = Instant::now();
    let mut burst = Burst::default();
    let mut settle_at = began + quiet;
    loop {
        let now = Instant::now();
        let until = settle_at.min(began + longest);
        if now >= until {
            return burst;
        }
        match rx.recv_timeout(until - now) {
            Ok(Wake::Fs(event)) => {
                if relevant(&event) {
                    burst.note(&event);
                    settle_at = Instant::now() + quiet;
                }
            }
            Ok(Wake::Stop(signal)) => {
                burst.stop = Some(signal);
                return burst;
            }
            // The consolidation that ends the burst syncs with the hub anyway.
            Ok(Wake::Hub) => {}
            Err(RecvTimeoutError::Timeout) => return burst,
            Err(RecvTimeoutError::Disconnected) => return burst,
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

    #[test]
    fn a_burst_ends_when_quiet_or_stopped() {
        let (tx, rx) = channel();
        for _ in 0..50 {
            tx.send(event()).unwrap();
        }
        let burst = gather(
            &rx,
            Duration::from_millis(20),
            Duration::from_secs(5),
            |_| true,
        );
        assert_eq!(burst.relevant, 50);
        assert_eq!(burst.stop, None);

        tx.send(event()).unwrap();
        tx.send(Wake::Stop(15)).unwrap();
        tx.send(event()).unwrap();
        let burst = gather(&rx, Duration::from_secs(5), Duration::from_secs(5), |_| {
            true
        });
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
        let burst = gather(
            &rx,
            Duration::from_millis(20),
            Duration::from_secs(5),
            |_| true,
        );
        let paths: Vec<_> = burst.paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(paths, vec!["a.json", "b.json"]);
        assert!(!burst.lost);
    }

    #[test]
    fn irrelevant_events_do_not_extend_a_burst() {
        let (tx, rx) = channel();
        tx.send(event()).unwrap();
        let burst = gather(
            &rx,
            Duration::from_millis(10),
            Duration::from_secs(5),
            |_| false,
        );
        assert_eq!(burst.relevant, 0);
    }
}
