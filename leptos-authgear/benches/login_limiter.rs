//! The login limiter's cost per call and its memory as the clients it has seen grow to
//! 1,000,000 distinct addresses, beside a bare baseline measured in the same run: a plain
//! `Mutex<HashMap>` that remembers every client (what a table without a bound would cost). Run
//! by `bench/login-limiter`; the figures go to bench/README.md.

use leptos_authgear::server::__bench::LoginRate;
use leptos_authgear::server::LoginRateLimit;
use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Instant;

const CLIENTS: u32 = 1_000_000;
const WINDOW: u32 = 10_000;

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn client(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + n))
}

/// Calls `call` for `CLIENTS` distinct clients: ns per call over all, over the first window,
/// the slowest window, and the memory grown.
fn measure(name: &str, mut call: impl FnMut(IpAddr)) {
    let rss_before = rss_kib();
    let started = Instant::now();
    let mut window_started = Instant::now();
    let (mut first, mut slowest) = (0.0_f64, 0.0_f64);
    for n in 0..CLIENTS {
        call(client(n));
        if (n + 1) % WINDOW == 0 {
            let per_call = window_started.elapsed().as_nanos() as f64 / f64::from(WINDOW);
            if n + 1 == WINDOW {
                first = per_call;
            }
            slowest = slowest.max(per_call);
            window_started = Instant::now();
        }
    }
    let per_call = started.elapsed().as_nanos() as f64 / f64::from(CLIENTS);
    let grown = rss_kib().saturating_sub(rss_before);
    println!(
        "{name:<34} {per_call:>8.0} ns/call   first {WINDOW}: {first:>6.0} ns   slowest {WINDOW}: {slowest:>6.0} ns   memory +{:.1} MiB",
        grown as f64 / 1024.0
    );
}

fn main() {
    let limit = LoginRateLimit::parse("20/1m").expect("valid").expect("on");
    println!("{CLIENTS} distinct clients, one login each (limit {limit}):");
    let limiter = LoginRate::new(limit);
    measure("leptos-authgear's limiter", |address| {
        black_box(limiter.check(address)).ok();
    });
    // Refused by the table being full? (Never: newcomers always pass.)
    let refused = (0..1_000)
        .filter(|n| limiter.check(client(CLIENTS + n)).is_err())
        .count();
    println!(
        "{:<34} {refused} of 1000 newcomers refused after the flood",
        ""
    );
    drop(limiter);

    let bare = Mutex::new(HashMap::<IpAddr, u64>::new());
    measure("bare: an unbounded Mutex<HashMap>", |address| {
        let mut table = bare.lock().expect("lock");
        let next = table.get(&address).copied().unwrap_or(0) + 1;
        table.insert(address, black_box(next));
    });
}
