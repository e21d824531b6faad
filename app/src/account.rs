//! `/account`: for signed-in users only. A guest who opens it is sent to the login, which
//! comes back here (`RequireUser`: a redirect from the server, or from the browser after a
//! client-side navigation). It lists the user's sessions ("Your devices", `SessionList`), whose
//! sign-out buttons need a login within five minutes (`RECENT_LOGIN_TO_END_SESSIONS` in
//! `.env.example`). `/account/security` needs one to be shown at all (`RequireRecentLogin`).

use crate::api::token_status;
use crate::home::utc_time;
use leptos::prelude::*;
use leptos_authgear::{
    login_here, use_user, LogoutButton, RequireRecentLogin, RequireUser, SessionList,
};

#[component]
pub fn Account() -> impl IntoView {
    view! {
        <RequireUser>
            <AccountDetails/>
        </RequireUser>
    }
}

#[component]
fn AccountDetails() -> impl IntoView {
    let user = use_user();
    move || {
        user.get().map(|user| {
            view! {
                <section class="card">
                    <h1 id="accountTitle">"Your account"</h1>
                    <dl class="details">
                        <dt>"Name"</dt>
                        <dd id="accountName">{user.display_name}</dd>
                        <dt>"Email"</dt>
                        <dd id="accountEmail">{user.email.unwrap_or_else(|| "No email address".into())}</dd>
                        <dt>"User ID"</dt>
                        <dd id="accountSubject">{user.subject}</dd>
                        <dt>"Session"</dt>
                        <dd id="accountSession">{format!("Ends on {} unless you use the app before.", leptos_authgear::format_utc(user.session_ends_at))}</dd>
                    </dl>
                    <TokenCheck/>
                    <div class="actions">
                        <a class="button secondary" href="/">"Back to home"</a>
                        <a class="button secondary" id="securityLink" href="/account/security">"Security"</a>
                        <LogoutButton id="accountLogout" class="button">"Logout"</LogoutButton>
                    </div>
                </section>
                <section class="card" aria-labelledby="devicesTitle">
                    <h2 id="devicesTitle">"Your devices"</h2>
                    <p class="muted">"Signing out a device needs a sign-in within the last five minutes."</p>
                    <SessionList/>
                </section>
            }
        })
    }
}

/// `/account/security`: shown only after a login within the last five minutes; an older one
/// goes through the provider's login first (with `max_age`), and comes back here.
#[component]
pub fn Security() -> impl IntoView {
    view! {
        <RequireRecentLogin max_age=RECENT_LOGIN_SECS>
            <section class="card">
                <h1 id="securityTitle">"Security"</h1>
                <p id="securityNotice">"You signed in within the last five minutes: this page, like signing out your other devices, needs that."</p>
                <p><a class="button secondary" href="/account">"Back to your account"</a></p>
            </section>
        </RequireRecentLogin>
    }
}

/// How recent a login `/account/security` needs, as `RECENT_LOGIN_TO_END_SESSIONS` asks for
/// ending sessions.
const RECENT_LOGIN_SECS: u64 = 5 * 60;

/// "Check access token": a server function that gets a fresh access token. A 401 (the session
/// ended meanwhile) becomes a login that comes back to this page. An island: the rest of the
/// page is HTML from the server.
#[island]
fn TokenCheck() -> impl IntoView {
    let check = Action::new(|_: &()| token_status());
    let pending = check.pending();
    let answer = move || {
        check.value().get().map(|result| match result {
            Ok(status) => {
                let expiry = status
                    .expires_at
                    .map_or("no expiry given".to_owned(), |at| {
                        format!("valid until {}", utc_time(at))
                    });
                format!(
                    "Access token {expiry}; {} refreshes so far.",
                    status.refreshes
                )
            }
            Err(error) => {
                if error.needs_login() {
                    login_here();
                }
                error.to_string()
            }
        })
    };
    view! {
        <p>
            <button
                id="checkToken"
                class="button secondary"
                type="button"
                disabled=move || pending.get()
                on:click=move |_| {
                    check.dispatch(());
                }
            >
                "Check access token"
            </button>
        </p>
        <p id="tokenCheck" role="status">{answer}</p>
    }
}
