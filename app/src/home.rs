//! The home view: "Welcome Guest" with a Login link, or "Welcome <name>!" with the user's
//! claims and a Logout button. Element ids match Authgear's Flask guide.

use crate::api::{current_user, SessionView, UserProfile};
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    // The server renders this route only once the resource has resolved (`render_app_async`),
    // so the HTML already shows the right state: no flash of "Welcome Guest".
    let current = Resource::new(|| (), |_| current_user());
    // Flips to true once the WASM bundle has hydrated the page (Effects run in the browser only).
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <main class="page" data-hydrated=move || hydrated.get().to_string()>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match current.await {
                        Ok(current) => view! { <Home current/> }.into_any(),
                        Err(error) => view! {
                            <p class="error" role="alert">{error.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Home(current: SessionView) -> impl IntoView {
    view! {
        {current.local_demo_provider.then(|| view! {
            <p class="notice" id="demoNotice">
                "Using the local demo provider: sign in with any email address and the code shown \
                 on its page. Set AUTHGEAR_* in .env to use your Authgear project."
            </p>
        })}
        {match current.user {
            Some(user) => view! { <SignedIn user/> }.into_any(),
            None => view! { <Guest/> }.into_any(),
        }}
    }
}

#[component]
fn Guest() -> impl IntoView {
    view! {
        <h1 id="profileDropDown">"Welcome Guest"</h1>
        <p><a id="qsLoginBtn" class="button" href="/login">"Login"</a></p>
    }
}

#[component]
fn SignedIn(user: UserProfile) -> impl IntoView {
    let welcome = format!("Welcome {}!", user.display_name);
    view! {
        <h1 id="profileDropDown">{welcome}</h1>
        // A POST form, never a link: logout must not be triggerable by a cross-site link or image.
        <form method="post" action="/logout">
            <button id="qsLogoutBtn" class="button" type="submit">"Logout"</button>
        </form>
        <h2>"Your claims"</h2>
        <pre id="claims">{user.claims_json}</pre>
    }
}
