//! The home view: "Welcome Guest" with Login and Sign up, or "Welcome <name>!" with the user's
//! details, session and token status, claims, Logout, Manage account and Log in again. Element
//! ids match Authgear's Flask guide (`qsLoginBtn`, `qsLogoutBtn`, `profileDropDown`).

use crate::api::profile;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_authgear::{
    use_auth, AuthContext, AuthError, LoginLink, LogoutButton, SignupLink, User,
};

/// `/`: the guest view, or the signed-in user's details. Who is signed in comes from
/// `leptos-authgear`'s `AuthProvider`: the server rendered the page with it, hydration reads the
/// same, and it turns to the guest view when the session ends elsewhere. An island: all of it
/// can change in the browser.
#[island]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    let user = auth.user();
    let ended = auth.session_ended();
    view! {
        {move || match user.get() {
            Some(user) => Either::Left(view! { <SignedIn user auth/> }),
            None => Either::Right(view! { <Guest ended=ended.get()/> }),
        }}
    }
}

/// Whether the server talks to the bundled local demo provider rather than to Authgear
/// (`LOCAL_DEMO_PROVIDER`, set by `scripts/dev` when it starts that provider): provided by the
/// server for every page.
#[derive(Clone, Copy, Debug, Default)]
pub struct DemoProvider(pub bool);

/// Says that the provider is the local demo one, not Authgear. Rendered on the server only
/// (outside the islands): nothing about it changes in the browser.
#[component]
pub fn DemoNotice() -> impl IntoView {
    let DemoProvider(demo) = use_context().unwrap_or_default();
    demo.then(|| {
        view! {
            <p class="notice" id="demoNotice">
                "Using the local demo provider: sign in with any email address and the code \
                 shown on its page. Set AUTHGEAR_* in .env to use your Authgear project."
            </p>
        }
    })
}

#[component]
fn Guest(ended: bool) -> impl IntoView {
    view! {
        {ended.then(|| view! { <p class="notice" id="sessionEnded" role="status">{AuthError::SessionEnded.to_string()}</p> })}
        <section class="card hero">
            <h1 id="profileDropDown">"Welcome Guest"</h1>
            <p class="muted">
                "Sign in with your email address: Authgear sends you a one-time code, no password \
                 needed."
            </p>
            <div class="actions">
                <LoginLink id="qsLoginBtn" class="button">"Login"</LoginLink>
                // Opens Authgear's sign-up page directly (`x_page=signup`).
                <SignupLink id="qsSignupBtn" class="button secondary">"Sign up"</SignupLink>
            </div>
        </section>
    }
}

#[component]
fn SignedIn(user: User, auth: AuthContext) -> impl IntoView {
    let settings_url = auth.account_settings_url();
    let welcome = format!("Welcome {}!", user.display_name);
    // Upper-cased by the stylesheet: `char::to_uppercase` would bring Unicode's case tables
    // (about 12 KB) into the WASM bundle.
    let initial = user.display_name.chars().next().unwrap_or('?').to_string();
    let (shown, set_shown) = signal(user);
    let refresh = Action::new(|_: &()| profile());
    let pending = refresh.pending();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match refresh.value().get() {
        Some(Ok(fresh)) => {
            error.set(None);
            set_shown.set(fresh);
        }
        Some(Err(failure)) if failure.needs_login() => auth.end_session(),
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
                <LogoutButton id="qsLogoutBtn" class="button">"Logout"</LogoutButton>
                {settings_url.map(|url| view! {
                    <a id="manageAccount" class="button secondary" href=url rel="external">"Manage account"</a>
                })}
                // `prompt=login`: the provider asks again even while its own session lasts.
                <a id="loginAgain" class="button secondary" href="/login?prompt=login" rel="external">"Log in again"</a>
            </div>
            <p class="muted" id="sessionEnds">
                {move || shown.with(|user| format!(
                    "Your session ends on {} unless you use the app before.",
                    leptos_authgear::format_utc(user.session_ends_at)
                ))}
            </p>
        </section>
        <section class="card">
            <h2>"Access token"</h2>
            <p id="tokenStatus">
                {move || shown.with(|user| token_status(user.access_token_expires_at))}
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

/// "Expires at 12:34:56 UTC" (the account page counts the refreshes).
fn token_status(expires_at: Option<i64>) -> String {
    expires_at.map_or_else(
        || "No expiry given".to_owned(),
        |at| format!("Expires at {}", utc_time(at)),
    )
}

/// `HH:MM:SS UTC` from Unix time: the same text on the server and in the browser.
pub(crate) fn utc_time(unix: i64) -> String {
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_status_shows_the_expiry() {
        assert_eq!(token_status(Some(86_399)), "Expires at 23:59:59 UTC");
        assert_eq!(token_status(None), "No expiry given");
    }
}
