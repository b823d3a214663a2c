//! Every input in fuzz/regressions/ (crashes and slow inputs the fuzzer found, kept once fixed,
//! plus hostile shapes written by hand) goes through load → normalize → model without a panic
//! or a hang.

use std::path::Path;

#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    for input in inputs {
        let bytes = std::fs::read(&input).expect("readable input");
        // A panic fails the test and names the input. A watchdog turns a hang (the fuzzer once
        // found a 3 KB document that took seconds, exponential in its nesting) into a failure;
        // the bound is far above the milliseconds these take.
        eprintln!("{}", input.display());
        let (done, finished) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            mcp_gen::check_untrusted(&bytes);
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(60)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("{} did not finish within 60 s", input.display())
            }
            // Finished, or panicked (the join re-raises it with the input named above).
            _ => worker.join().expect("no panic"),
        }
    }
}
