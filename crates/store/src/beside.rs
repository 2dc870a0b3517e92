//! Work made on a thread of its own and taken in on the caller's, one piece
//! at a time: how a cold run reads its next step of files while it takes in
//! the one before, and how the store folds the next part of the whole log
//! while it writes the one before (docs/ARCHITECTURE.md, "How a cold run is
//! stored"). Kept here, below the engine, so that both use the one rule.

use std::sync::mpsc;

/// Runs `make` on a thread of its own until it returns `None` or an error,
/// and hands each piece it made to `take` on this thread; runs `meanwhile`
/// here first, while the first piece is being made.
///
/// - **Bounded**: the maker waits with its next piece until the one before
///   is taken (a channel with no room), so at most two pieces are held.
/// - **Freed where made**: a taken piece goes back to the making thread to
///   be dropped there. Dropped here, its blocks would go back to the maker's
///   malloc arena under that arena's lock, against the maker's own
///   allocations — measured slower than making and taking in turn
///   (docs/BENCHMARKS.md, "Transcripts: the second core at work").
/// - **Failing**: an error from `make` is returned once the pieces before
///   it are taken; an error from `meanwhile` or `take` stops the taking, and
///   the maker stops at its next piece.
pub fn make_beside<T: Send, E: Send>(
    mut make: impl FnMut() -> Option<Result<T, E>> + Send,
    meanwhile: impl FnOnce() -> Result<(), E>,
    mut take: impl FnMut(&T) -> Result<(), E>,
) -> Result<(), E> {
    std::thread::scope(|scope| {
        let (send, made) = mpsc::sync_channel::<Result<T, E>>(0);
        let (taken, to_free) = mpsc::channel::<T>();
        scope.spawn(move || {
            while let Some(piece) = make() {
                let failed = piece.is_err();
                // Gone: the taker failed and stopped taking.
                if send.send(piece).is_err() || failed {
                    return;
                }
                to_free.try_iter().for_each(drop);
            }
            drop(send);
            to_free.iter().for_each(drop);
        });
        meanwhile()?;
        for piece in made {
            let piece = piece?;
            take(&piece)?;
            // The maker is gone only after a failure, met above next.
            let _ = taken.send(piece);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::make_beside;

    #[test]
    fn every_piece_is_taken_in_order_and_freed_on_the_making_thread() {
        let maker = std::sync::Mutex::new(None);
        let mut next = 0;
        let mut seen = Vec::new();
        make_beside(
            || {
                *maker.lock().unwrap() = Some(std::thread::current().id());
                next += 1;
                (next <= 5).then(|| Ok::<_, ()>(Dropped(next)))
            },
            || Ok(()),
            |piece| {
                seen.push(piece.0);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        let maker = maker.lock().unwrap().unwrap();
        let freed = FREED_ON.lock().unwrap();
        assert_eq!(freed.len(), 5);
        assert!(freed.iter().all(|&t| t == maker), "{freed:?} {maker:?}");
        assert_ne!(maker, std::thread::current().id());
    }

    #[test]
    fn an_error_from_either_side_stops_the_run() {
        let mut made = 0;
        let out = make_beside(
            || {
                made += 1;
                Some(if made == 3 { Err("third") } else { Ok(made) })
            },
            || Ok(()),
            |_| Ok(()),
        );
        assert_eq!(out, Err("third"));
        let mut taken = Vec::new();
        let out = make_beside(
            || Some(Ok::<_, &str>(1)),
            || Ok(()),
            |&piece| {
                taken.push(piece);
                if taken.len() == 2 {
                    Err("enough")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(out, Err("enough"));
        assert_eq!(taken, [1, 1]);
        assert_eq!(
            make_beside(|| None::<Result<(), _>>, || Err("before"), |_| Ok(())),
            Err("before")
        );
    }

    static FREED_ON: std::sync::Mutex<Vec<std::thread::ThreadId>> =
        std::sync::Mutex::new(Vec::new());

    /// A piece that notes the thread it is dropped on.
    struct Dropped(u32);

    impl Drop for Dropped {
        fn drop(&mut self) {
            FREED_ON.lock().unwrap().push(std::thread::current().id());
        }
    }
}
