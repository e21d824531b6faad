//! `/account`: for signed-in users only. A guest who opens it is sent to the login, which
//! comes back here (`RequireUser`: a redirect from the server, or from the browser after a
//! client-side navigation).

use crate::home::utc_date_time;
use leptos::prelude::*;
use leptos_authgear::{use_user, LogoutButton, RequireUser};

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
                        <dd id="accountSession">{format!("Ends {} unless you use the app before.", utc_date_time(user.session_ends_at))}</dd>
                    </dl>
                    <div class="actions">
                        <a class="button secondary" href="/">"Back to home"</a>
                        <LogoutButton id="accountLogout" class="button">"Logout"</LogoutButton>
                    </div>
                </section>
            }
        })
    }
}
