//! Native side of `make bench-inflate`: every candidate on the same gzip
//! body, rounds interleaved (this machine has slow phases), the median of
//! each. Prints one JSON object: candidate -> median ms.

use inflate_compare::CANDIDATES;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: inflate-compare BODY.gz [ROUNDS]");
    let rounds: usize = args.next().map_or(30, |r| r.parse().expect("ROUNDS"));
    let gz = std::fs::read(path).expect("read BODY.gz");
    let want = CANDIDATES[0].1(&gz).expect("miniz_oxide refuses the body");
    for (name, f) in &CANDIDATES[..4] {
        assert!(
            f(&gz).as_ref() == Some(&want),
            "{name} inflates to other bytes"
        );
    }
    let mut times = vec![Vec::with_capacity(rounds); CANDIDATES.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in CANDIDATES.iter().enumerate() {
            let start = Instant::now();
            std::hint::black_box(f(&gz));
            times[i].push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let rows: Vec<String> = CANDIDATES
        .iter()
        .zip(&mut times)
        .map(|((name, _), t)| {
            t.sort_by(f64::total_cmp);
            format!("\"{name}\": {:.3}", t[t.len() / 2])
        })
        .collect();
    println!(
        "{{\"inflated_bytes\": {}, \"ms\": {{{}}}}}",
        want.len(),
        rows.join(", ")
    );
}
