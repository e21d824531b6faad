//! The session stores' deletions and their owners index, on memory, SQLite and Redis.

use super::*;
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use tower_sessions::cookie::time::{self, OffsetDateTime};

pub(super) fn settings(store: StoreUrl) -> SessionSettings {
    SessionSettings {
        store,
        idle_timeout: Duration::from_secs(3600),
        max_lifetime: Duration::from_secs(7200),
        cache_size: 20_000,
        recent_login_to_end_sessions: None,
    }
}

/// A fresh SQLite file under the system's temporary directory.
pub(super) fn sqlite_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "authgear-leptos-test-{}-{name}/sessions.db",
        std::process::id()
    ));
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    path
}

#[tokio::test]
async fn the_sqlite_file_and_its_directory_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let path = sqlite_path("private");
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
        .await
        .expect("open");
    let mut record = record(Some("ada"), None, time::Duration::hours(1));
    store.create(&mut record).await.expect("a write (the WAL)");
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .map(|meta| meta.permissions().mode() & 0o777)
            .expect("exists")
    };
    assert_eq!(mode(path.parent().expect("dir")), 0o700);
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        assert_eq!(mode(Path::new(&file)), 0o600, "sessions.db{suffix}");
    }
}

pub(super) async fn stores(name: &str) -> Vec<Sessions> {
    let memory = Sessions::connect(&settings(StoreUrl::Memory)).await;
    let sqlite = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path(name)))).await;
    vec![memory.expect("memory"), sqlite.expect("sqlite")]
}

pub(super) fn record(sub: Option<&str>, sid: Option<&str>, lifetime: time::Duration) -> Record {
    let stored = match sub {
        Some(sub) => cache::tests::signed_in_as(sub, sid),
        None => serde_json::json!({ "ended_elsewhere": true }),
    };
    let data = HashMap::from([("auth".to_owned(), stored)]);
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + lifetime,
    }
}

pub(super) async fn session_of(store: &Sessions, sub: &str, sid: Option<&str>) -> Id {
    let mut record = record(Some(sub), sid, time::Duration::hours(1));
    store.create(&mut record).await.expect("create");
    record.id
}

pub(super) async fn exists(store: &Sessions, id: Id) -> bool {
    store.load(&id).await.expect("load").is_some()
}

/// Request A reads a session, request B deletes it (logout, back-channel logout), then A
/// writes what it read at its end (tower-sessions' save, an activity touch, a refresh that
/// finished late): the session stays deleted, on every store.
#[tokio::test]
async fn a_deletion_wins_over_a_write_that_read_before_it() {
    let redis = super::test_redis::ScratchRedis::start().await;
    let mut all = stores("deletion-wins").await;
    all.push(
        Sessions::connect(&settings(StoreUrl::Redis(redis.url.clone())))
            .await
            .expect("redis"),
    );
    for store in all {
        let id = session_of(&store, "ada", Some("s1")).await;
        let read = store.load(&id).await.expect("load").expect("live");
        store.delete(&id).await.expect("delete");
        let mut late = read.clone();
        late.data
            .insert("touched".to_owned(), serde_json::json!(true));
        store
            .save(&late)
            .await
            .expect("a dropped write is no error");
        assert!(!exists(&store, id).await, "written back: {store:?}");
        // Sessions that were not deleted are written as before.
        let other = session_of(&store, "grace", None).await;
        let mut record = store.load(&other).await.expect("load").expect("live");
        record
            .data
            .insert("touched".to_owned(), serde_json::json!(true));
        store.save(&record).await.expect("save");
        let read = store.load(&other).await.expect("load").expect("live");
        assert_eq!(
            read.data.get("touched"),
            Some(&serde_json::json!(true)),
            "{store:?}"
        );
    }
}

/// SQLite's writer commits what queued together: many concurrent creates, saves and
/// deletes all land, each with its index entry, and each answers for itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sqlite_writes_all_land_in_their_batches() {
    let store = Arc::new(
        Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("batches"))))
            .await
            .expect("open"),
    );
    let creates = (0..300).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { session_of(&store, &format!("user-{n}"), None).await })
    });
    let ids: Vec<Id> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|created| created.expect("task"))
        .collect();
    let (kept, deleted) = ids.split_at(150);
    let writes = kept.iter().map(|id| {
        let (store, id) = (store.clone(), *id);
        tokio::spawn(async move {
            let mut record = store.load(&id).await.expect("load").expect("live");
            record
                .data
                .insert("touched".into(), serde_json::json!(true));
            store.save(&record).await.expect("save");
        })
    });
    let deletes = deleted.iter().map(|id| {
        let (store, id) = (store.clone(), *id);
        tokio::spawn(async move { store.delete(&id).await.expect("delete") })
    });
    futures::future::join_all(writes.chain(deletes)).await;
    for (n, id) in ids.iter().enumerate() {
        let matching = store
            .owners
            .matching(Some(&format!("user-{n}")), None)
            .await;
        let indexed = matching.expect("index") == vec![*id];
        let record = store.load(id).await.expect("load");
        if n < 150 {
            let touched = record.expect("kept").data.get("touched").cloned();
            assert_eq!(touched, Some(serde_json::json!(true)), "save {n}");
            assert!(indexed, "index {n}");
        } else {
            assert!(record.is_none() && !indexed, "delete {n}");
        }
    }
}

#[tokio::test]
async fn sid_deletes_that_provider_session_only() {
    for store in stores("sid").await {
        let phone = session_of(&store, "ada", Some("s1")).await;
        let laptop = session_of(&store, "ada", Some("s2")).await;
        let deleted = store.delete_matching(Some("ada"), Some("s1"), None).await;
        assert_eq!(deleted.expect("delete"), 1, "{store:?}");
        assert!(!exists(&store, phone).await);
        assert!(exists(&store, laptop).await);
    }
}

#[tokio::test]
async fn sub_alone_deletes_every_session_of_that_user() {
    for store in stores("sub").await {
        let first = session_of(&store, "ada", Some("s1")).await;
        let second = session_of(&store, "ada", None).await;
        let other = session_of(&store, "grace", Some("s3")).await;
        let deleted = store.delete_matching(Some("ada"), None, None).await;
        assert_eq!(deleted.expect("delete"), 2, "{store:?}");
        assert!(!exists(&store, first).await && !exists(&store, second).await);
        assert!(exists(&store, other).await);
        // A sid that belongs to someone else than the named sub deletes nothing.
        let deleted = store.delete_matching(Some("ada"), Some("s3"), None).await;
        assert_eq!(deleted.expect("delete"), 0);
        assert!(exists(&store, other).await);
    }
}

/// The ids of `sub`'s sessions as `of_subject` lists them, sorted.
async fn ids_of(store: &Sessions, sub: &str) -> Vec<Id> {
    let records = store.of_subject(sub).await.expect("list");
    let mut ids: Vec<Id> = records.into_iter().map(|record| record.id).collect();
    ids.sort_by_key(|id| id.to_string());
    ids
}

/// The user's list of their sessions: their live ones, never another user's, never a deleted
/// or expired one.
#[tokio::test]
async fn a_users_sessions_are_their_live_ones_and_no_one_elses() {
    for store in stores("of-subject").await {
        let first = session_of(&store, "ada", Some("s1")).await;
        let second = session_of(&store, "ada", None).await;
        let gone = session_of(&store, "ada", Some("s2")).await;
        store.delete(&gone).await.expect("delete");
        let mut expired = record(Some("ada"), None, time::Duration::seconds(-5));
        store.create(&mut expired).await.expect("create");
        let grace = session_of(&store, "grace", Some("s3")).await;

        let mut expected = vec![first, second];
        expected.sort_by_key(|id| id.to_string());
        assert_eq!(ids_of(&store, "ada").await, expected, "{store:?}");
        assert_eq!(ids_of(&store, "grace").await, vec![grace]);
        assert!(store.of_subject("nobody").await.expect("list").is_empty());
    }
}

/// A webhook delivered late (or again) names a time: sessions signed in after it stay.
#[tokio::test]
async fn a_deletion_up_to_a_time_spares_sessions_signed_in_after_it() {
    for store in stores("signed-in-by").await {
        let mut ids = Vec::new();
        for signed_in_at in [100, 200] {
            let mut record = record(Some("ada"), Some("s1"), time::Duration::hours(1));
            record.data.get_mut("auth").expect("auth")["user"]["signed_in_at"] =
                serde_json::json!(signed_in_at);
            store.create(&mut record).await.expect("create");
            ids.push(record.id);
        }
        let deleted = store
            .delete_matching(Some("ada"), Some("s1"), Some(150))
            .await;
        assert_eq!(deleted.expect("delete"), 1, "{store:?}");
        assert!(!exists(&store, ids[0]).await, "{store:?}");
        assert!(exists(&store, ids[1]).await, "{store:?}");
        // The event's own second counts as before it.
        let deleted = store.delete_matching(Some("ada"), None, Some(200)).await;
        assert_eq!(deleted.expect("delete"), 1, "{store:?}");
    }
}

/// Every deletion is announced: in this process, and through Redis to another instance.
#[tokio::test]
async fn deletions_are_announced_to_every_instance() {
    for store in stores("announced").await {
        let mut heard = store.ends().subscribe();
        let id = session_of(&store, "ada", None).await;
        store.delete(&id).await.expect("delete");
        assert_eq!(heard.recv().await.expect("announced"), id, "{store:?}");
    }
    let redis = super::test_redis::ScratchRedis::start().await;
    let settings = settings(StoreUrl::Redis(redis.url.clone()));
    let (one, other) = (
        Sessions::connect(&settings).await.expect("redis"),
        Sessions::connect(&settings).await.expect("redis"),
    );
    let mut heard = other.ends().subscribe();
    let id = session_of(&one, "ada", None).await;
    one.delete(&id).await.expect("delete");
    let announced = tokio::time::timeout(Duration::from_secs(5), heard.recv()).await;
    assert_eq!(announced.expect("in time").expect("announced"), id);
}

#[tokio::test]
async fn deleted_sessions_leave_the_index_and_guests_never_enter_it() {
    for store in stores("deleted").await {
        let id = session_of(&store, "ada", Some("s1")).await;
        store.delete(&id).await.expect("delete");
        let mut guest = record(None, None, time::Duration::hours(1));
        store.create(&mut guest).await.expect("create");
        let matching = store.owners.matching(Some("ada"), None).await;
        assert!(matching.expect("matching").is_empty(), "{store:?}");
        assert!(exists(&store, guest.id).await);
    }
}
