//! The home view: "Welcome Guest" with Login and Sign up, or "Welcome <name>!" with the user's
//! details, session and token status, claims, Logout, Manage account and Log in again. Element
//! ids match Authgear's Flask guide (`qsLoginBtn`, `qsLogoutBtn`, `profileDropDown`).

use crate::api::{profile, ApiError, SessionView, UserProfile};
use leptos::either::Either;
use leptos::prelude::*;

const SESSION_ENDED: &str = "Your session has ended, please log in again.";

/// What the page shows: the server reads the session before rendering (`routes::page` in the
/// server crate) and provides the answer as context. It travels inside the HTML, as a JSON data
/// block, to the browser, which hydrates from it without asking again. No resource and no
/// `<Suspense>`: the page renders and hydrates synchronously, which keeps the async hydration
/// machinery out of the WASM bundle (bench/README.md).
#[derive(Clone, Debug)]
pub struct PageState(pub Result<SessionView, ApiError>);

/// The id of the element that carries [`PageState`] in the page.
const PAGE_STATE_ID: &str = "pageState";

impl PageState {
    /// The state as a JSON data block (`<script type="application/json">`) for the page's
    /// body: the browser reads it before hydrating and never runs it, so it needs no nonce.
    /// Every `<` is escaped (JSON only has it inside strings), so that no claim can end the
    /// element. Written directly: Leptos' `SharedValue` escapes its JSON a second time, into a
    /// JavaScript string, one character at a time (measured in bench/README.md).
    #[cfg(feature = "ssr")]
    pub fn write_data_block(&self, html: &mut String) -> Result<(), serde_json::Error> {
        let json = serde_json::to_string(&self.0)?;
        html.push_str(r#"<script type="application/json" id=""#);
        html.push_str(PAGE_STATE_ID);
        html.push_str(r#"">"#);
        if json.contains('<') {
            html.push_str(&json.replace('<', "\\u003c"));
        } else {
            html.push_str(&json);
        }
        html.push_str("</script>");
        Ok(())
    }

    /// On the server: the state the page handler provided. In the browser: the page's data
    /// block. Either way, its absence is said on the page rather than panicking.
    fn current() -> Result<SessionView, ApiError> {
        #[cfg(feature = "ssr")]
        let found = use_context::<PageState>().map(|state| state.0);
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        let found = document()
            .get_element_by_id(PAGE_STATE_ID)
            .and_then(|element| element.text_content())
            .and_then(|json| serde_json::from_str(&json).ok());
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        let found: Option<Result<SessionView, ApiError>> = None;
        found.unwrap_or_else(|| {
            Err(ApiError::Temporary(
                "The page was sent without its state; reload it.".into(),
            ))
        })
    }
}

#[component]
pub fn App() -> impl IntoView {
    let current = PageState::current();
    // Flips to true once the WASM bundle has hydrated the page (Effects run in the browser only).
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            {match current {
                Ok(current) => Either::Left(view! { <Home current/> }),
                Err(error) => Either::Right(view! {
                    <Header signed_in_as=None/>
                    <main class="page">
                        <section class="card">
                            <h1>"Temporarily unavailable"</h1>
                            <p class="error" id="pageError" role="alert">{error.to_string()}</p>
                            <p><a class="button" href="/">"Try again"</a></p>
                        </section>
                    </main>
                }),
            }}
        </div>
    }
}

#[component]
fn Home(current: SessionView) -> impl IntoView {
    // Set when the session ends while the page is open: the view turns to the guest one.
    let ended = RwSignal::new(current.session_ended);
    let user = current.user;
    watch_session(ended, user.is_some());
    let settings_url = current.account_settings_url;
    let name = user.as_ref().map(|user| user.display_name.clone());
    view! {
        {move || {
            let signed_in_as = name.clone().filter(|_| !ended.get());
            view! { <Header signed_in_as/> }
        }}
        <main class="page">
            {current.local_demo_provider.then(|| view! {
                <p class="notice" id="demoNotice">
                    "Using the local demo provider: sign in with any email address and the code \
                     shown on its page. Set AUTHGEAR_* in .env to use your Authgear project."
                </p>
            })}
            {move || match user.clone() {
                Some(user) if !ended.get() => {
                    Either::Left(view! { <SignedIn user ended settings_url=settings_url.clone()/> })
                }
                _ => Either::Right(view! { <Guest ended=ended.get()/> }),
            }}
        </main>
    }
}

/// The app name and who is signed in, on every page.
#[component]
fn Header(signed_in_as: Option<String>) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Log in with Authgear"</a>
            <span class="login-state" id="loginState">
                {match signed_in_as {
                    Some(name) => format!("Signed in as {name}"),
                    None => "Not signed in".to_owned(),
                }}
            </span>
        </header>
    }
}

#[component]
fn Guest(ended: bool) -> impl IntoView {
    view! {
        {ended.then(|| view! { <p class="notice" id="sessionEnded" role="status">{SESSION_ENDED}</p> })}
        <section class="card hero">
            <h1 id="profileDropDown">"Welcome Guest"</h1>
            <p class="muted">
                "Sign in with your email address: Authgear sends you a one-time code, no password \
                 needed."
            </p>
            <div class="actions">
                <a id="qsLoginBtn" class="button" href="/login">"Login"</a>
                // Opens Authgear's sign-up page directly (`x_page=signup`).
                <a id="qsSignupBtn" class="button secondary" href="/login?screen=signup">"Sign up"</a>
            </div>
        </section>
    }
}

#[component]
fn SignedIn(
    user: UserProfile,
    ended: RwSignal<bool>,
    settings_url: Option<String>,
) -> impl IntoView {
    let welcome = format!("Welcome {}!", user.display_name);
    let initial = user
        .display_name
        .chars()
        .next()
        .unwrap_or('?')
        .to_uppercase()
        .to_string();
    let (shown, set_shown) = signal(user);
    let refresh = Action::new(|_: &()| profile());
    let pending = refresh.pending();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match refresh.value().get() {
        Some(Ok(fresh)) => {
            error.set(None);
            set_shown.set(fresh);
        }
        Some(Err(ApiError::SessionEnded | ApiError::NotSignedIn)) => ended.set(true),
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
    view! {
        <section class="card">
            <div class="profile">
                <span class="avatar" aria-hidden="true">{initial}</span>
                <div>
                    <h1 id="profileDropDown">{welcome}</h1>
                    <p class="muted" id="profileEmail">
                        {move || shown.with(|user| user.email.clone().unwrap_or_else(|| "No email address".into()))}
                        " "
                        <span
                            id="emailVerified"
                            class=move || shown.with(|user| if user.email_verified { "badge ok" } else { "badge" })
                        >
                            {move || shown.with(|user| if user.email_verified { "verified" } else { "not verified" })}
                        </span>
                    </p>
                </div>
            </div>
            <div class="actions">
                // A POST form, never a link: logout must not be triggerable cross-site.
                <form method="post" action="/logout">
                    <button id="qsLogoutBtn" class="button" type="submit">"Logout"</button>
                </form>
                {settings_url.map(|url| view! {
                    <a id="manageAccount" class="button secondary" href=url>"Manage account"</a>
                })}
                // `prompt=login`: the provider asks again even while its own session lasts.
                <a id="loginAgain" class="button secondary" href="/login?prompt=login">"Log in again"</a>
            </div>
            <p class="muted" id="sessionEnds">
                {move || shown.with(|user| format!(
                    "Your session ends {} unless you use the app before.",
                    utc_date_time(user.session_ends_at)
                ))}
            </p>
        </section>
        <section class="card">
            <h2>"Access token"</h2>
            <p id="tokenStatus">
                {move || shown.with(|user| token_status(user.access_token_expires_at, user.refreshes, user.last_refreshed_at))}
            </p>
            <button
                id="refreshProfile"
                class="button secondary"
                type="button"
                aria-busy=move || pending.get().to_string()
                disabled=move || pending.get()
                on:click=move |_| {
                    refresh.dispatch(());
                }
            >
                {move || if pending.get() { "Refreshing…" } else { "Refresh profile" }}
            </button>
            {move || error.get().map(|message| view! { <p class="error" id="profileError" role="alert">{message}</p> })}
        </section>
        <details class="card" id="claimsBlock">
            <summary>"Your claims"</summary>
            <pre id="claims">{move || shown.with(|user| user.claims_json.as_str().to_owned())}</pre>
        </details>
    }
}

/// "Expires at 12:34:56 UTC · refreshed 2 times, last at 12:30:00 UTC": times and counts only.
fn token_status(expires_at: Option<i64>, refreshes: u32, last_refreshed_at: Option<i64>) -> String {
    let expiry = match expires_at {
        Some(at) => format!("Expires at {}", utc_time(at)),
        None => "No expiry given".to_owned(),
    };
    let refreshed = match (refreshes, last_refreshed_at) {
        (0, _) | (_, None) => "not refreshed yet".to_owned(),
        (1, Some(at)) => format!("refreshed once, at {}", utc_time(at)),
        (n, Some(at)) => format!("refreshed {n} times, last at {}", utc_time(at)),
    };
    format!("{expiry} · {refreshed}")
}

/// `HH:MM:SS UTC` from Unix time: the same text on the server and in the browser.
fn utc_time(unix: i64) -> String {
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Asks `/session/status` when the tab regains focus and every 30 seconds, so that a session
/// ended elsewhere (revoked, expired, logged out at the provider) shows as such without a
/// reload. Browser only; nothing to do for guests.
#[cfg(feature = "hydrate")]
fn watch_session(ended: RwSignal<bool>, signed_in: bool) {
    use leptos::task::spawn_local;
    use std::time::Duration;

    if !signed_in {
        return;
    }
    let check = move || {
        spawn_local(async move {
            if let Some(false) = crate::status::signed_in().await {
                ended.set(true);
            }
        })
    };
    let interval = set_interval_with_handle(check, Duration::from_secs(30)).ok();
    let focus = window_event_listener(leptos::ev::focus, move |_| check());
    on_cleanup(move || {
        if let Some(interval) = interval {
            interval.clear();
        }
        focus.remove();
    });
}

#[cfg(not(feature = "hydrate"))]
fn watch_session(_ended: RwSignal<bool>, _signed_in: bool) {}

/// `2026-11-28 14:05 UTC` from Unix time (days to civil date: Howard Hinnant's algorithm).
fn utc_date_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let minutes = unix.rem_euclid(86_400) / 60;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "on {year}-{month:02}-{day:02} at {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ClaimsJson;

    #[cfg(feature = "ssr")]
    #[test]
    fn the_data_block_cannot_be_ended_by_a_claim_and_reads_back() {
        let hostile = "</script><script>alert(1)</script><!--";
        let state = PageState(Ok(SessionView {
            user: Some(UserProfile {
                display_name: hostile.into(),
                email: Some("a<b@example.com".into()),
                email_verified: true,
                subject: "sub-1".into(),
                claims_json: ClaimsJson::new(
                    serde_json::json!({ "name": hostile })
                        .as_object()
                        .expect("an object"),
                ),
                session_ends_at: 1,
                access_token_expires_at: None,
                refreshes: 0,
                last_refreshed_at: None,
            }),
            local_demo_provider: false,
            account_settings_url: Some("https://example.com/settings".into()),
            session_ended: false,
        }));
        let mut html = String::new();
        state.write_data_block(&mut html).expect("serializable");
        let json = html
            .strip_prefix(r#"<script type="application/json" id="pageState">"#)
            .and_then(|rest| rest.strip_suffix("</script>"))
            .expect("one data block");
        assert!(!json.contains('<'), "{json}");
        let read: Result<SessionView, ApiError> = serde_json::from_str(json).expect("JSON");
        assert_eq!(read, state.0);
        // The claims arrive as the text the page shows: the same JSON, `<` written `\u003c`.
        let claims = read
            .ok()
            .and_then(|view| view.user)
            .expect("a user")
            .claims_json;
        let shown: serde_json::Value = serde_json::from_str(claims.as_str()).expect("JSON");
        assert_eq!(shown["name"], hostile);
        assert!(
            claims.as_str().contains("\n  \"name\": "),
            "{}",
            claims.as_str()
        );
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc_date_time(0), "on 1970-01-01 at 00:00 UTC");
        assert_eq!(utc_date_time(951_782_400), "on 2000-02-29 at 00:00 UTC");
        assert_eq!(utc_date_time(1_795_867_500), "on 2026-11-28 at 12:05 UTC");
    }

    #[test]
    fn token_status_shows_times_and_counts() {
        assert_eq!(
            token_status(Some(3_661), 0, None),
            "Expires at 01:01:01 UTC · not refreshed yet"
        );
        assert_eq!(
            token_status(Some(86_399), 3, Some(60)),
            "Expires at 23:59:59 UTC · refreshed 3 times, last at 00:01:00 UTC"
        );
        assert_eq!(
            token_status(None, 1, Some(0)),
            "No expiry given · refreshed once, at 00:00:00 UTC"
        );
    }
}
