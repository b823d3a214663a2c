//! Work on every core. [`map`] maps a document's operations: each thread keeps its own
//! `model::operation::Shared` (what its operations share:
//! expansions of types, outputs made), which gives what one for the whole document gives (the
//! memo is proven so by `schema::tests::the_memo_gives_what_a_fresh_converter_gives`);
//! results come back in the jobs' order, so the output is the same whatever the thread count.
//! [`join`] runs two independent pieces of a stage side by side.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Fewer jobs than this are mapped on the calling thread: starting threads costs more.
const MIN_PARALLEL: usize = 64;
/// Jobs a thread takes at a time: neighbours in a document tend to share types, which its
/// memo then reuses.
const CHUNK: usize = 16;

/// `work` over every job with a state per thread (`init`), on as many threads as there are
/// cores; one result per job, in the jobs' order.
pub fn map<J: Sync, S, R: Send>(
    jobs: &[J],
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &J) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads <= 1 || jobs.len() < MIN_PARALLEL {
        let mut state = init();
        return jobs.iter().map(|job| work(&mut state, job)).collect();
    }
    let next = AtomicUsize::new(0);
    let thread = || {
        let mut state = init();
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= jobs.len() {
                return done;
            }
            for (i, job) in jobs.iter().enumerate().skip(start).take(CHUNK) {
                done.push((i, work(&mut state, job)));
            }
        }
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..threads).map(|_| scope.spawn(thread)).collect();
        running
            .into_iter()
            .flat_map(|t| {
                t.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

/// `a` on another thread and `b` on this one; both results. A panic in either goes on here.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let other = scope.spawn(a);
        let mine = b();
        let other = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (other, mine)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_jobs_order_with_a_state_per_thread() {
        let jobs: Vec<usize> = (0..1_000).collect();
        let out = map(&jobs, Vec::new, |seen: &mut Vec<usize>, &job| {
            seen.push(job);
            // Within one thread, jobs come in increasing order.
            assert!(seen.windows(2).all(|w| w[0] < w[1]));
            job * 2
        });
        assert_eq!(out, jobs.iter().map(|j| j * 2).collect::<Vec<_>>());
        assert_eq!(map(&jobs[..3], || (), |(), &j| j), vec![0, 1, 2]);
    }

    #[test]
    fn join_runs_the_first_apart_and_returns_both_in_order() {
        let here = std::thread::current().id();
        let (a, b) = join(
            || std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert_ne!(a, here);
        assert_eq!(b, here);
    }
}
