//! `GET /session/events`: server-sent events for one signed-in browser, which sends `event:
//! ended` (and closes) when its session ends — logout in another tab, an Authgear webhook, a
//! back-channel logout, a refused refresh, the idle or absolute limit — on this instance or,
//! with Redis, on any. One tab per browser listens and tells the others (`BroadcastChannel`);
//! see docs/decisions/0005-every-tab-at-once.md.
//!
//! The stream wakes when a deletion of its session is announced (`SessionEnds`, dispatched to
//! the session's streams only: `event_streams`), when the session would expire, and at least
//! every [`RECHECK`]; each time it reads the store, which is the truth. Listening does not
//! count as activity.

use super::NO_STORE;
use crate::server::event_streams::OpenStream;
use crate::server::session::{unix_now, AuthSession};
use crate::server::Auth;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;
use tower_sessions::session::Id;

/// The store is read at least this often, in case an announcement was lost (Redis
/// reconnecting).
const RECHECK: Duration = Duration::from_secs(60);
/// A comment this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(25);
/// When the streams are all taken: when to try again (the page's watcher waits and connects
/// again).
const RETRY_WHEN_FULL_SECS: &str = "30";
/// After a failed read of the store, the next try.
const RETRY_AFTER_STORE_ERROR: Duration = Duration::from_secs(5);

pub async fn events(State(auth): State<Auth>, session: AuthSession) -> Response {
    let Some(id) = session.session_id() else {
        return ended_now();
    };
    // Listen before reading: a deletion between the read and the first wait is not missed.
    let Some(open) = auth.event_streams().open(id) else {
        tracing::warn!("session events: MAX_EVENT_STREAMS reached, a stream refused");
        let retry = (axum::http::header::RETRY_AFTER, RETRY_WHEN_FULL_SECS);
        return (StatusCode::SERVICE_UNAVAILABLE, [NO_STORE, retry]).into_response();
    };
    let ends_at = match session.user().await {
        Ok(Some(user)) => user.ends_at,
        Ok(None) => return ended_now(),
        Err(error) => {
            tracing::error!(%error, "session events: reading the session failed");
            return (StatusCode::SERVICE_UNAVAILABLE, [NO_STORE]).into_response();
        }
    };
    let watch = Watch {
        stopping: auth.stopping().subscribe(),
        auth,
        id,
        ends_at,
        open,
        ended: false,
    };
    let events = stream::unfold(watch, |mut watch| async move {
        if watch.ended || !watch.wait_for_end().await {
            return None;
        }
        watch.ended = true;
        Some((Ok::<_, Infallible>(ended_event()), watch))
    });
    sse(events)
}

/// One browser's session, watched: its id and when it ends, not its record (a stream stays
/// open as long as the browser does; each check reads the store afresh).
struct Watch {
    auth: Auth,
    id: Id,
    /// When the session ends by itself (idle or absolute limit, Unix time), as last read.
    ends_at: i64,
    /// Set when the server stops (graceful shutdown waits for every open stream).
    stopping: tokio::sync::watch::Receiver<bool>,
    /// Counted among the open streams; closed when a newer one of the session replaces it.
    open: OpenStream,
    ended: bool,
}

impl Watch {
    /// Returns `true` once the session has ended, `false` when the server stops first (the
    /// browser connects again, to this server or another) or a newer stream of the session
    /// takes this one's place.
    async fn wait_for_end(&mut self) -> bool {
        let mut next_check = self.next_check();
        loop {
            if *self.stopping.borrow() {
                return false;
            }
            let check = tokio::select! {
                _ = self.stopping.changed() => return false,
                () = self.open.closed() => return false,
                () = self.open.announced() => true,
                () = tokio::time::sleep_until(next_check) => true,
            };
            if check {
                match self.signed_in_until().await {
                    Ok(None) => return true,
                    Ok(Some(ends_at)) => {
                        self.ends_at = ends_at;
                        next_check = self.next_check();
                    }
                    Err(()) => next_check = Instant::now() + RETRY_AFTER_STORE_ERROR,
                }
            }
        }
    }

    /// When the session ends by itself, read from the store; `None` when it has ended.
    async fn signed_in_until(&self) -> Result<Option<i64>, ()> {
        match AuthSession::stored(self.id, &self.auth).user().await {
            Ok(user) => Ok(user.map(|user| user.ends_at)),
            Err(error) => {
                tracing::warn!(%error, "session events: reading the session failed");
                Err(())
            }
        }
    }

    /// When the session would end by itself (as last read), or the next routine check,
    /// whichever is first.
    fn next_check(&self) -> Instant {
        let routine = Instant::now() + RECHECK;
        let ends_in = self.ends_at.saturating_sub(unix_now()).max(0);
        // A second late: the record has expired by then.
        let ends = Instant::now() + Duration::from_secs(ends_in.unsigned_abs() + 1);
        routine.min(ends)
    }
}

/// The stream for a browser that is not signed in (any more): `ended` at once.
fn ended_now() -> Response {
    sse(stream::iter([Ok::<_, Infallible>(ended_event())]))
}

fn ended_event() -> Event {
    Event::default().event("ended").data("ended")
}

fn sse(events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let (name, value) = NO_STORE;
    response
        .headers_mut()
        .insert(name, axum::http::HeaderValue::from_static(value));
    response
}

#[cfg(test)]
mod tests {
    use crate::server::test_support::{auth, fetch, get_response, sign_in};
    use crate::server::ServerLimits;
    use axum::http::{header, StatusCode};
    use axum::Router;
    use std::time::Duration;

    #[tokio::test]
    async fn streams_are_capped_per_session_and_in_all() {
        let auth = auth(|settings| {
            settings.limits(ServerLimits {
                max_event_streams: 3,
                max_event_streams_per_session: 2,
                ..ServerLimits::default()
            })
        })
        .await;
        let app = Router::new()
            .route("/sign-in", sign_in())
            .merge(auth.routes())
            .layer(auth.layer());
        let signed_in = || async { fetch(&app, "/sign-in", None).await.2.expect("a cookie") };
        let (one, other) = (signed_in().await, signed_in().await);
        let open = |cookie: String| {
            let app = app.clone();
            async move { get_response(&app, "/session/events", Some(&cookie)).await }
        };
        let oldest = open(one.clone()).await;
        assert_eq!(oldest.status(), StatusCode::OK);
        let _second = open(one.clone()).await;
        let _third = open(one.clone()).await;
        // The session's oldest stream ends, without saying the session ended.
        let rest = tokio::time::timeout(
            Duration::from_secs(5),
            axum::body::to_bytes(oldest.into_body(), 1 << 16),
        )
        .await
        .expect("the oldest stream was closed")
        .expect("body");
        assert!(
            !String::from_utf8_lossy(&rest).contains("ended"),
            "{rest:?}"
        );
        // Two open of three: one more, then no more.
        let kept = open(other.clone()).await;
        assert_eq!(kept.status(), StatusCode::OK);
        let refused = open(other).await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "30");
    }
}
