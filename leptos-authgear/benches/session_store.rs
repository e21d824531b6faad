//! Sessions written and read per second at 1,000 concurrent sessions, for each store, with the
//! in-process memory store as the bare baseline of the same run. Run by `bench/session-store`,
//! which starts a scratch redis-server and passes its URL in `BENCH_REDIS_URL`.

use leptos_authgear::server::__bench::Sessions;
use leptos_authgear::server::{SessionSettings, StoreUrl};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;

const CONCURRENT_SESSIONS: usize = 1_000;
const ROUNDS: usize = 5;

/// A signed-in record shaped like the app's: claims and a token set of realistic sizes.
fn signed_in_record(n: usize) -> Record {
    let token = |len: usize| "x".repeat(len);
    let data = serde_json::json!({
        "user": {
            "subject": format!("user-{n}"),
            "sid": format!("sid-{n}"),
            "claims": {
                "sub": format!("user-{n}"),
                "email": format!("user-{n}@example.com"),
                "email_verified": true,
                "https://authgear.com/claims/user/is_anonymous": false,
                "https://authgear.com/claims/user/is_verified": true,
                "https://authgear.com/claims/user/can_reauthenticate": true
            },
            "tokens": {
                "access_token": token(900),
                "refresh_token": token(43),
                "id_token": token(1100),
                "access_token_expires_at": 1_800_000_000,
                "obtained_at": 1_799_998_200
            },
            "refreshes": 0,
            "last_refreshed_at": null,
            "signed_in_at": 1_799_998_200,
            "last_seen_at": 1_799_998_200,
            "ends_at": 1_800_084_600
        }
    });
    Record {
        id: Id::default(),
        data: HashMap::from([("auth".to_owned(), data)]),
        expiry_date: OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1),
    }
}

/// Operations per second for `ROUNDS` rounds of `CONCURRENT_SESSIONS` concurrent tasks.
async fn measure(store: &Sessions) -> (f64, f64) {
    let mut write = Duration::ZERO;
    let mut read = Duration::ZERO;
    for round in 0..ROUNDS {
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENT_SESSIONS)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut record = signed_in_record(round * CONCURRENT_SESSIONS + n);
                    store.create(&mut record).await.expect("write");
                    record.id
                })
            })
            .collect();
        let mut ids = Vec::with_capacity(CONCURRENT_SESSIONS);
        for task in tasks {
            ids.push(task.await.expect("task"));
        }
        write += started.elapsed();

        let started = Instant::now();
        let tasks: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let store = store.clone();
                tokio::spawn(async move { store.load(&id).await.expect("read").is_some() })
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("task"), "a written session was not found");
        }
        read += started.elapsed();
    }
    let total = (ROUNDS * CONCURRENT_SESSIONS) as f64;
    (total / write.as_secs_f64(), total / read.as_secs_f64())
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("session-store-bench-{}", std::process::id()));
    let mut stores = vec![
        ("memory (baseline)", StoreUrl::Memory),
        ("sqlite", StoreUrl::Sqlite(dir.join("sessions.db"))),
    ];
    match std::env::var("BENCH_REDIS_URL") {
        Ok(url) => stores.push(("redis", StoreUrl::Redis(url))),
        Err(_) => eprintln!("BENCH_REDIS_URL not set: Redis skipped"),
    }
    println!(
        "{CONCURRENT_SESSIONS} concurrent sessions, {ROUNDS} rounds, ~{} B records",
        serde_json::to_vec(&signed_in_record(0).data)
            .map(|v| v.len())
            .unwrap_or_default()
    );
    println!("| store | writes/s | reads/s |");
    println!("|---|---:|---:|");
    for (name, url) in stores {
        let settings = SessionSettings {
            store: url,
            idle_timeout: Duration::from_secs(3600),
            max_lifetime: Duration::from_secs(7200),
            cache_size: 20_000,
            recent_login_to_end_sessions: None,
        };
        let store = Sessions::connect(&settings).await.expect("store");
        let (writes, reads) = measure(&store).await;
        println!("| {name} | {writes:.0} | {reads:.0} |");
    }
    let _ = std::fs::remove_dir_all(dir);
}
