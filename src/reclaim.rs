//! Large results freed off the JS thread.
//!
//! The binding's finalizers call [`release`]. V8 runs an external Buffer's or string's finalizer on the JS thread, often many at once after
//! a collection. Freeing a 16 MiB allocation there is an `munmap` of 4,096 touched pages, and a
//! collection that finalizes eight of them kept the event loop for 8–9 ms. So the finalizers
//! hand anything of [`OFF_THREAD_FROM`] bytes or more to one `offload-reclaim` thread, which
//! drops it; smaller owners are dropped in place, where a `free` costs less than the hand-off.
//!
//! Guarantees: the JS thread never waits here (an unbounded channel; the thread is started
//! once, on first use); if that thread cannot be started, owners are dropped in place as
//! before. The thread does nothing but drop, so it cannot fall behind for long.

use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

/// Owners of at least this many bytes are freed on the reclaim thread.
pub const OFF_THREAD_FROM: usize = 256 * 1024;

type Garbage = Box<dyn Send>;

fn sender() -> Option<&'static Sender<Garbage>> {
    static SENDER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    SENDER
        .get_or_init(|| {
            let (tx, rx) = channel::<Garbage>();
            std::thread::Builder::new()
                .name("offload-reclaim".into())
                .spawn(move || rx.into_iter().for_each(drop))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Drops `owner`, which holds `len` bytes: on the reclaim thread when it is large.
pub fn release<T: Send + 'static>(owner: T, len: usize) {
    if len < OFF_THREAD_FROM {
        return drop(owner);
    }
    match sender() {
        Some(tx) => {
            // A send fails only if the thread has gone, which it never does; then drop here.
            if let Err(back) = tx.send(Box::new(owner)) {
                drop(back.0);
            }
        }
        None => drop(owner),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;
    use std::time::Duration;

    use super::*;

    /// Tells the test on which thread it was dropped.
    struct Probe(std::sync::mpsc::SyncSender<Option<String>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().name().map(String::from));
        }
    }

    #[test]
    fn large_owners_are_dropped_on_the_reclaim_thread_and_small_ones_in_place() {
        let here = std::thread::current().name().map(String::from);
        let (tx, rx) = sync_channel(2);
        release(Probe(tx.clone()), OFF_THREAD_FROM - 1);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), here);
        release(Probe(tx), OFF_THREAD_FROM);
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap().as_deref(),
            Some("offload-reclaim")
        );
    }
}
