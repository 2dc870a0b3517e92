//! SIGTERM and SIGINT become a [`Wake::Stop`] on the daemon's channel, so the
//! consolidation under way finishes before the daemon exits. A second signal
//! exits at once: the store is transactional, so nothing is lost.

use crate::wake::Wake;
use crate::DaemonError;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::mpsc::Sender;

pub(crate) fn forward(tx: Sender<Wake>) -> Result<(), DaemonError> {
    let mut signals = Signals::new([SIGTERM, SIGINT]).map_err(DaemonError::Signals)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut received = 0;
            for signal in signals.forever() {
                received += 1;
                if received > 1 {
                    tracing::warn!(signal, "second signal: exiting without waiting");
                    std::process::exit(1);
                }
                tracing::info!(signal, "signal received: stopping after the current run");
                if tx.send(Wake::Stop(signal)).is_err() {
                    return;
                }
            }
        })
        .map_err(DaemonError::Signals)?;
    Ok(())
}
