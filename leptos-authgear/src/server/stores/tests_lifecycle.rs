//! The stores' lives: restarts, expiry, the SQLite cache and its writes, requests that read a
//! decoded session, and start-up errors. (`tests.rs`: deletions and the owners index.)

use super::tests::{exists, record, session_of, settings, sqlite_path, stores};
use super::*;
use crate::server::session::{AuthSession, SessionLifetimes, SignedInUser};
use tower_sessions::cookie::time;

#[tokio::test]
async fn sqlite_sessions_and_their_owners_survive_a_restart() {
    let path = sqlite_path("restart");
    let id = {
        let store = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
            .await
            .expect("open");
        session_of(&store, "ada", Some("s1")).await
    };
    let reopened = Sessions::connect(&settings(StoreUrl::Sqlite(path)))
        .await
        .expect("reopen");
    assert!(exists(&reopened, id).await);
    let deleted = reopened.delete_matching(None, Some("s1"), None).await;
    assert_eq!(deleted.expect("delete"), 1);
}

#[tokio::test]
async fn expired_sqlite_sessions_are_deleted_with_their_owners() {
    let path = sqlite_path("expiry");
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(path)))
        .await
        .expect("open");
    let mut expired = record(Some("ada"), Some("s1"), time::Duration::seconds(-1));
    store.create(&mut expired).await.expect("create");
    let live = session_of(&store, "grace", None).await;
    store.delete_expired().await.expect("delete expired");
    store.owners.delete_expired().await.expect("delete owners");
    let Owners::Sqlite(pool) = &store.owners else {
        panic!("sqlite owners");
    };
    let rows: i64 = sqlx::query_scalar("select count(*) from tower_sessions")
        .fetch_one(pool)
        .await
        .expect("count");
    let owners: i64 = sqlx::query_scalar("select count(*) from session_owners")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!((rows, owners), (1, 1));
    assert!(exists(&store, live).await);
}

#[tokio::test]
async fn expired_memory_sessions_leave_the_index() {
    let store = Sessions::connect(&settings(StoreUrl::Memory))
        .await
        .expect("memory");
    let mut expired = record(Some("ada"), Some("s1"), time::Duration::seconds(-1));
    store.create(&mut expired).await.expect("create");
    let live = session_of(&store, "ada", Some("s2")).await;
    store.delete_expired().await.expect("delete expired");
    let matching = store.owners.matching(Some("ada"), None).await;
    assert_eq!(matching.expect("matching"), vec![live]);
    let by_sid = store.owners.matching(None, Some("s1")).await;
    assert!(by_sid.expect("matching").is_empty());
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let path = sqlite_path("lock");
    let first = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
        .await
        .expect("open");
    let error = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
        .await
        .expect_err("locked");
    assert!(
        error.contains("in use by another server process"),
        "{error}"
    );
    // `--check-config` beside the running server still works.
    Sessions::check(&settings(StoreUrl::Sqlite(path.clone())))
        .await
        .expect("check");
    drop(first);
    Sessions::connect(&settings(StoreUrl::Sqlite(path)))
        .await
        .expect("open again once the first has closed");
}

#[tokio::test]
async fn sqlite_reads_what_its_cache_no_longer_holds_and_caches_it() {
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("cache"))))
        .await
        .expect("open");
    let id = session_of(&store, "ada", None).await;
    let cache = store.cache.clone().expect("sqlite has a cache");
    assert!(cache.load(&id).is_some());
    cache.clear();
    assert!(exists(&store, id).await);
    assert!(cache.load(&id).is_some());
    // A delete reaches both.
    store.delete(&id).await.expect("delete");
    assert!(cache.load(&id).is_none());
    assert!(!exists(&store, id).await);
}

/// The end of a request saves again what `AuthSession` saved during it: SQLite writes it
/// once. A changed record, or one this process only read, is written.
#[tokio::test]
async fn sqlite_does_not_write_again_what_it_last_wrote() {
    let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("unchanged"))))
        .await
        .expect("open");
    let Backend::Sqlite(_, pool, _) = &store.backend else {
        panic!("a SQLite store");
    };
    let mut record = record(Some("ada"), None, time::Duration::hours(1));
    store.create(&mut record).await.expect("create");
    let id = record.id.to_string();
    // Marks the row behind the store's back: a write puts its version back.
    let mark = || async {
        sqlx::query("update tower_sessions set version = -1 where id = ?")
            .bind(&id)
            .execute(pool)
            .await
            .expect("mark");
    };
    let written = || async {
        sqlx::query_scalar::<_, i64>("select version from tower_sessions where id = ?")
            .bind(&id)
            .fetch_one(pool)
            .await
            .expect("row")
            != -1
    };
    mark().await;
    store.save(&record).await.expect("save");
    assert!(!written().await, "the record as created, written again");

    let mut changed = record.clone();
    changed.expiry_date += time::Duration::minutes(1);
    store.save(&changed).await.expect("save");
    assert!(written().await, "a changed record was not written");
    mark().await;
    store.save(&changed).await.expect("save");
    assert!(!written().await, "the same change, written twice");

    // Read from the file rather than written here: the next save is written.
    let cache = store.cache.clone().expect("sqlite has a cache");
    cache.clear();
    store.load(&record.id).await.expect("load").expect("live");
    store.save(&changed).await.expect("save");
    assert!(written().await, "a save after a read was skipped");

    // With an app's own key beside this crate's, the cache does not hold the record:
    // every save is written.
    let mut with_app_key = changed.clone();
    with_app_key
        .data
        .insert("app".to_owned(), serde_json::json!("its own key"));
    for _ in 0..2 {
        mark().await;
        store.save(&with_app_key).await.expect("save");
        assert!(
            written().await,
            "a record with an app's key was not written"
        );
    }
}

/// One request's typed session over `store`, as the extractor builds it.
fn request(store: &Arc<Sessions>, id: Option<Id>) -> AuthSession {
    let lifetimes = SessionLifetimes {
        idle_timeout: 3600,
        max_lifetime: 7200,
    };
    let session = tower_sessions::Session::new(id, store.clone(), None);
    AuthSession::with_parts(session, lifetimes, store.decoded(), None)
}

/// Request A reads a signed-in session; request B refreshes it (new tokens); then A's
/// activity touch and A's end-of-request save (tower-sessions writes back the copy it
/// read) must keep B's tokens — on every store.
#[tokio::test]
async fn writes_of_what_was_read_before_a_refresh_cannot_undo_it() {
    let redis = super::test_redis::ScratchRedis::start().await;
    let mut all = stores("newer-wins").await;
    all.push(
        Sessions::connect(&settings(StoreUrl::Redis(redis.url.clone())))
            .await
            .expect("redis"),
    );
    let locks = Arc::new(refresh_lock::RefreshLocks::new(&all[0]));
    let lifetimes = SessionLifetimes {
        idle_timeout: 3600,
        max_lifetime: 7200,
    };
    for store in all {
        let store = Arc::new(store);
        let login = request(&store, None);
        let user = SignedInUser::test_user("ada", Some("s1"), serde_json::json!({}));
        login.sign_in(user).await.expect("sign in");
        let id: Id = login.id().and_then(|id| id.parse().ok()).expect("an id");
        // Last seen long ago: A's next page view writes a touch.
        let idle = request(&store, Some(id));
        let mut user = SignedInUser::clone(&idle.user().await.expect("read").expect("user"));
        user.last_seen_at = 0;
        idle.update_user(user).await.expect("write");

        // 1. A reads (its tower-sessions copy too); B refreshes; A's end of request saves
        //    the copy it read.
        let a_session = tower_sessions::Session::new(Some(id), store.clone(), None);
        let _: Option<serde_json::Value> = a_session.get("auth").await.expect("read");
        refresh(&store, id, "first").await;
        a_session.save().await.expect("a dropped write is no error");
        let now = request(&store, Some(id))
            .user()
            .await
            .expect("read")
            .expect("user");
        assert_eq!(now.tokens.access_token, "first", "{store:?}");

        // 2. A reads; B refreshes; A's page view writes its activity touch.
        let a = AuthSession::with_parts(
            tower_sessions::Session::new(Some(id), store.clone(), None),
            lifetimes,
            store.decoded(),
            Some(locks.clone()),
        );
        a.user().await.expect("read").expect("user");
        refresh(&store, id, "second").await;
        let touched = a.active_user().await.expect("touch").expect("user");
        assert_eq!(touched.tokens.access_token, "second", "{store:?}");
        let now = request(&store, Some(id))
            .user()
            .await
            .expect("read")
            .expect("user");
        assert_eq!(now.tokens.access_token, "second", "{store:?}");
        assert_eq!(now.refreshes, 2, "{store:?}");
        assert!(now.last_seen_at > 0, "the touch landed too: {store:?}");
    }
}

/// What a refresh writes: new tokens, one more refresh.
async fn refresh(store: &Arc<Sessions>, id: Id, access_token: &str) {
    let b = request(store, Some(id));
    let mut user = SignedInUser::clone(&b.user().await.expect("read").expect("user"));
    user.tokens.access_token = access_token.to_owned();
    user.refreshes += 1;
    b.update_user(user).await.expect("refresh written");
}

#[tokio::test]
async fn requests_read_the_decoded_session_and_see_every_write() {
    let path = sqlite_path("decoded");
    let store = Arc::new(
        Sessions::connect(&settings(StoreUrl::Sqlite(path)))
            .await
            .expect("open"),
    );
    let login = request(&store, None);
    let user = SignedInUser::test_user("ada", Some("s1"), serde_json::json!({}));
    login.sign_in(user).await.expect("sign in");
    let id = login.id().and_then(|id| id.parse().ok()).expect("an id");

    // The next request reads it from the cache: SQLite's row is gone behind its back.
    let Backend::Sqlite(sqlite, ..) = &store.backend else {
        panic!("sqlite backend");
    };
    sqlite.delete(&id).await.expect("delete the row");
    let page = request(&store, Some(id));
    let read = page.active_user().await.expect("read").expect("signed in");
    assert_eq!(read.subject, "ada");

    // A write in one request is what the next one reads.
    let mut refreshed = SignedInUser::clone(&read);
    refreshed.refreshes = 1;
    page.update_user(refreshed).await.expect("update");
    let next = request(&store, Some(id)).user().await.expect("read");
    assert_eq!(next.map(|user| user.refreshes), Some(1));

    // Ended elsewhere (refresh token revoked): the old id reads as signed out, and the
    // browser's new one says so once.
    let ending = request(&store, Some(id));
    ending.end_elsewhere().await.expect("end");
    assert!(request(&store, Some(id))
        .user()
        .await
        .expect("read")
        .is_none());
    let new_id = ending
        .id()
        .and_then(|id| id.parse().ok())
        .expect("a new id");
    // Not the id just deleted: a late write of the old record must not land on this one.
    assert_ne!(new_id, id);
    let told = request(&store, Some(new_id));
    assert!(told.take_ended_elsewhere().await.expect("read"));
    assert!(!request(&store, Some(new_id))
        .take_ended_elsewhere()
        .await
        .expect("read"));
}

#[tokio::test]
async fn an_unusable_sqlite_path_is_a_clear_start_up_error() {
    let error = Sessions::connect(&settings(StoreUrl::Sqlite("/proc/no/sessions.db".into())))
        .await
        .expect_err("cannot create");
    assert!(error.contains("/proc/no"), "{error}");
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_start_up_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("port");
    let url = StoreUrl::Redis(format!("redis://127.0.0.1:{port}"));
    let error = Sessions::connect(&settings(url))
        .await
        .expect_err("refused");
    assert!(error.starts_with("cannot connect"), "{error}");
}
