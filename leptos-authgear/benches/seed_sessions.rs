//! Fills a session store with signed-in sessions through the store's own API (as logins would
//! leave them, without the logins), for `bench/scale`. Arguments, as environment variables:
//!
//! - `SEED_STORE`: the store, as `SESSION_STORE` names it (`sqlite://…`, `redis://…`);
//! - `SEED_COUNT`: how many sessions; `SEED_FROM` (0): the number of the first user;
//! - `SEED_EXPIRES_IN` (86,400): seconds from now until the records expire;
//! - `SEED_COOKIES` and `SEED_SECRET`: a file to write each session's cookie to (one per line),
//!   with the app's `APP_SECRET_KEY`; without them, no cookies;
//! - `SEED_CONCURRENCY` (500): writes in flight.
//!
//! Prints how many were written and how long it took.

use leptos_authgear::server::__bench::{session_cookie, signed_in_record, Sessions};
use leptos_authgear::server::{SessionSettings, StoreUrl};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tower_sessions::SessionStore;

fn setting(name: &str, default: Option<&str>) -> String {
    std::env::var(name)
        .ok()
        .or(default.map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} is not set"))
}

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .map(|value| {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{name}: not a number"))
        })
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let store = StoreUrl::parse(&setting("SEED_STORE", None)).expect("SEED_STORE");
    let (count, from) = (number("SEED_COUNT", 0), number("SEED_FROM", 0));
    let expires_in = number("SEED_EXPIRES_IN", 86_400) as i64;
    let concurrency = number("SEED_CONCURRENCY", 500);
    let cookies = std::env::var("SEED_COOKIES").ok();
    let secret = cookies.as_ref().map(|_| setting("SEED_SECRET", None));
    let settings = SessionSettings {
        store,
        idle_timeout: Duration::from_secs(3600),
        max_lifetime: Duration::from_secs(86_400),
        // The seeder reads nothing back.
        cache_size: 1,
        recent_login_to_end_sessions: None,
    };
    let sessions = Sessions::connect(&settings).await.expect("store");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(if cookies.is_some() { count } else { 0 });
    let mut next = from;
    while next < from + count {
        let batch = (from + count - next).min(concurrency);
        let tasks: Vec<_> = (next..next + batch)
            .map(|n| {
                let sessions = sessions.clone();
                tokio::spawn(async move {
                    let mut record = signed_in_record(n, now, now + expires_in);
                    sessions.create(&mut record).await.expect("write");
                    record.id
                })
            })
            .collect();
        for task in tasks {
            let id = task.await.expect("task");
            if cookies.is_some() {
                ids.push(id);
            }
        }
        next += batch;
    }
    let elapsed = started.elapsed();
    if let (Some(path), Some(secret)) = (cookies, secret) {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("cookies"));
        for id in &ids {
            writeln!(file, "{}", session_cookie(&secret, false, id)).expect("cookies");
        }
        file.flush().expect("cookies");
    }
    println!(
        "{count} sessions written in {:.1} s ({:.0}/s)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
}
