//! The store under races and failures: the interleavings that could bring a deleted session
//! back, forced one step at a time; a logout racing many writes on every store; a write given
//! up, a writer that panics, a tombstone's lifetime (SECURITY.md, "The session store under
//! races and failures").

use super::tests::{exists, record, session_of, settings, sqlite_path, stores};
use super::*;
use tower_sessions::cookie::time::{self, OffsetDateTime};

/// `record` as one of the writes a request may make of a session it read: an activity touch
/// (a later expiry), a refresh (new tokens, a newer version), or new claims.
fn rewritten(record: &Record, kind: usize) -> Record {
    let mut record = record.clone();
    let auth = record.data.get_mut("auth").expect("auth");
    match kind % 3 {
        0 => record.expiry_date += time::Duration::minutes(1),
        1 => {
            let version = auth.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
            auth["version"] = serde_json::json!(version + 1);
            auth["user"]["tokens"]["access_token"] = serde_json::json!(format!("new-{kind}"));
        }
        _ => auth["user"]["claims"] = serde_json::json!({ "name": format!("Ada {kind}") }),
    }
    record
}

/// The bad interleaving, forced: a save is answered by the SQLite writer, and before its
/// request goes on, another request deletes the session (logout). When the cache learnt of a
/// write from the request after the answer, the save put the session back in the cache,
/// usable on this instance until the idle timeout. The writer now tells the cache in commit
/// order, before it answers.
#[tokio::test]
async fn a_logout_between_a_writes_answer_and_its_request_cannot_bring_the_session_back() {
    let store = Arc::new(
        Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path(
            "answered-then-deleted",
        ))))
        .await
        .expect("open"),
    );
    let id = session_of(&store, "ada", Some("s1")).await;
    let read = store.load(&id).await.expect("load").expect("live");
    let held = store.pauses.after_write.arm();
    let save = tokio::spawn({
        let store = store.clone();
        async move { store.save(&rewritten(&read, 0)).await }
    });
    held.reached.notified().await;
    store.delete(&id).await.expect("logout");
    held.resume.notify_one();
    save.await.expect("task").expect("save");
    let cache = store.cache.clone().expect("sqlite has a cache");
    assert!(
        cache.get(&id).is_none(),
        "the cache brought the session back"
    );
    assert!(!exists(&store, id).await);
}

/// The other bad interleaving, forced: a read that missed the cache reads SQLite, a logout
/// deletes the session, then the read puts what it read in the cache.
#[tokio::test]
async fn a_logout_during_a_read_that_missed_the_cache_cannot_bring_the_session_back() {
    let store = Arc::new(
        Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path(
            "read-then-deleted",
        ))))
        .await
        .expect("open"),
    );
    let id = session_of(&store, "ada", Some("s1")).await;
    let cache = store.cache.clone().expect("sqlite has a cache");
    cache.clear();
    let held = store.pauses.after_read.arm();
    let load = tokio::spawn({
        let store = store.clone();
        async move { store.load(&id).await }
    });
    held.reached.notified().await;
    store.delete(&id).await.expect("logout");
    held.resume.notify_one();
    let read = load.await.expect("task").expect("load");
    assert!(read.is_some(), "the read came before the logout");
    assert!(
        cache.get(&id).is_none(),
        "the cache brought the session back"
    );
    assert!(!exists(&store, id).await);
}

/// 200 rounds of a logout racing 20 writes of the same session (touches, refreshes, claims
/// updates, each from a copy read before), on SQLite, memory, and Redis with two instances:
/// after every round the session is gone on every instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_racing_many_writes_ends_the_session_on_every_instance() {
    let redis = super::test_redis::ScratchRedis::start().await;
    let redis_settings = settings(StoreUrl::Redis(redis.url.clone()));
    let two_instances = vec![
        Arc::new(Sessions::connect(&redis_settings).await.expect("redis")),
        Arc::new(Sessions::connect(&redis_settings).await.expect("redis")),
    ];
    let mut deployments: Vec<Vec<Arc<Sessions>>> = stores("logout-races")
        .await
        .into_iter()
        .map(|store| vec![Arc::new(store)])
        .collect();
    deployments.push(two_instances);
    for instances in deployments {
        for round in 0..200 {
            let id = session_of(&instances[0], "ada", Some("s1")).await;
            let read = instances[0].load(&id).await.expect("load").expect("live");
            let start = Arc::new(tokio::sync::Barrier::new(21));
            let mut tasks = Vec::new();
            for n in 0..20 {
                let (store, start) = (instances[n % instances.len()].clone(), start.clone());
                let record = rewritten(&read, n);
                tasks.push(tokio::spawn(async move {
                    start.wait().await;
                    store.save(&record).await.expect("save");
                }));
            }
            let logout = {
                let (store, start) = (instances[round % instances.len()].clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    store.delete(&id).await.expect("delete");
                })
            };
            for task in tasks {
                task.await.expect("write");
            }
            logout.await.expect("logout");
            for store in &instances {
                assert!(!exists(store, id).await, "round {round}: {store:?}");
                if let Some(decoded) = store.decoded() {
                    assert!(decoded.get(&id).is_none(), "round {round}: cached");
                }
            }
        }
    }
}

/// A write whose caller gave up (the store's timeout) before the writer took it never lands:
/// the caller was told it failed.
#[tokio::test]
async fn a_write_given_up_before_the_writer_took_it_never_lands() {
    let store = Arc::new(
        Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("given-up"))))
            .await
            .expect("open"),
    );
    let Backend::Sqlite(_, pool, _) = &store.backend else {
        panic!("a SQLite store");
    };
    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from tower_sessions")
            .fetch_one(pool)
            .await
            .expect("count")
    };
    // Another connection holds SQLite's write lock: the writer's next commit waits for it.
    let mut blocker = pool.acquire().await.expect("connection");
    sqlx::query("begin immediate")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let first = tokio::spawn({
        let store = store.clone();
        async move { session_of(&store, "first", None).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Queued behind the first, and given up while it waits.
    let mut given_up = record(Some("given-up"), None, time::Duration::hours(1));
    let gave_up = tokio::time::timeout(Duration::from_millis(100), store.create(&mut given_up))
        .await
        .is_err();
    assert!(gave_up, "the writer was not held");
    sqlx::query("commit")
        .execute(&mut *blocker)
        .await
        .expect("unlock");
    first.await.expect("the first write lands");
    // The writer has moved on past the given-up write: a third one lands after it.
    session_of(&store, "third", None).await;
    assert_eq!(count().await, 2, "the given-up create landed");
}

/// The writer's task panics (a bug): writes in hand fail, `/readyz` says not ready while it
/// starts again, and then writes work again.
#[tokio::test]
async fn the_sqlite_writer_starts_again_after_a_panic_and_says_so_meanwhile() {
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("supervised"))))
        .await
        .expect("open");
    let Backend::Sqlite(_, _, writer) = &store.backend else {
        panic!("a SQLite store");
    };
    assert!(writer.panic().await.is_err(), "the write in hand fails");
    let error = store.ping().await.expect_err("not ready while down");
    assert!(error.contains("starting again"), "{error}");
    let mut record = record(Some("ada"), None, time::Duration::hours(1));
    let failed_fast = std::time::Instant::now();
    assert!(store.create(&mut record).await.is_err(), "fails while down");
    assert!(
        failed_fast.elapsed() < Duration::from_millis(50),
        "and at once"
    );
    for _ in 0..50 {
        if store.ping().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.ping().await.expect("ready again");
    let id = session_of(&store, "ada", None).await;
    assert!(exists(&store, id).await);
}

/// A deletion's tombstone outlives any record a late write can carry: the sessions' absolute
/// lifetime from the deletion, at least.
#[tokio::test]
async fn a_tombstone_lasts_the_absolute_lifetime_from_the_deletion() {
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("tombstone"))))
        .await
        .expect("open");
    let Backend::Sqlite(_, pool, _) = &store.backend else {
        panic!("a SQLite store");
    };
    // A record that would expire in a minute.
    let mut record = record(Some("ada"), None, time::Duration::minutes(1));
    store.create(&mut record).await.expect("create");
    store.delete(&record.id).await.expect("delete");
    let until: OffsetDateTime =
        sqlx::query_scalar("select expiry_date from session_tombstones where id = ?")
            .bind(record.id.to_string())
            .fetch_one(pool)
            .await
            .expect("a tombstone");
    let lifetime = time::Duration::seconds(7200);
    assert!(until >= OffsetDateTime::now_utc() + lifetime - time::Duration::seconds(5));
    // The sweep keeps it; a late write of a record touched since stays dropped.
    store.delete_expired().await.expect("sweep");
    let mut late = record.clone();
    late.expiry_date = OffsetDateTime::now_utc() + time::Duration::hours(1);
    store.save(&late).await.expect("dropped");
    assert!(!exists(&store, record.id).await);
}
