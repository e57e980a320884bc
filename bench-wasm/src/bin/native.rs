//! The native side of `make bench-wasm`: times one stage of the harness
//! ([`stages`]) on a body file, the way `runner.js` times it in workerd, so
//! the driver can run the two back to back and compare them in the same
//! phase of a noisy machine.
//!
//! usage: native WORKLOAD RECORDS LIBRARY STAGE BODY_FILE
//!
//! Loads the body, runs the stage WARMUP times, then ROUNDS rounds of enough
//! iterations to last MIN_ROUND_MS each (the runner's constants), and prints
//! one JSON line: every round's mean per iteration, and their median.

use std::time::Instant;

use otlp2r2_bench_wasm::stages;

const WARMUP: usize = 3;
const ROUNDS: usize = 9;
const MIN_ROUND_MS: f64 = 150.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: native WORKLOAD RECORDS LIBRARY STAGE BODY_FILE");
        std::process::exit(2);
    }
    let (workload, library, stage) = (&args[1], &args[3], &args[4]);
    let records: usize = args[2]
        .parse()
        .unwrap_or_else(|_| fail("RECORDS is not a number".into()));
    let body = std::fs::read(&args[5]).unwrap_or_else(|e| fail(format!("{}: {e}", args[5])));
    let mut p = stages::load(workload, body, records).unwrap_or_else(|e| fail(e));
    let mut sink = 0usize;
    let mut once = |p: &mut stages::Prepared| {
        sink = sink.wrapping_add(p.run(library, stage).unwrap_or_else(|e| fail(e)));
    };
    for _ in 0..WARMUP {
        once(&mut p);
    }
    let t = Instant::now();
    once(&mut p);
    let single = (t.elapsed().as_secs_f64() * 1e3).max(0.01);
    let per_round = (MIN_ROUND_MS / single).ceil().max(1.0) as usize;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..per_round {
            once(&mut p);
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e3 / per_round as f64);
    }
    let mut sorted = rounds.clone();
    sorted.sort_by(f64::total_cmp);
    let list: Vec<String> = rounds.iter().map(|r| format!("{r:.4}")).collect();
    println!(
        "{{\"iterations_per_round\": {per_round}, \"rounds_ms\": [{}], \"median_ms\": {:.4}, \"sink\": {}}}",
        list.join(", "),
        sorted[ROUNDS / 2],
        std::hint::black_box(sink) % 2
    );
}

fn fail(msg: String) -> ! {
    eprintln!("native: {msg}");
    std::process::exit(1);
}
