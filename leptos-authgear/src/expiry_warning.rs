//! [`SessionExpiryWarning`]: a warning before the session ends, with "Stay signed in".

use crate::paths::{join, EXPIRY_WARNING_SCRIPT, STATUS};
use crate::{use_auth, CurrentUser};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A warning that appears `before` seconds before the session ends unless the user is active
/// again (the idle timeout), with a "Stay signed in" button that counts as activity and hides
/// the warning in every tab of the browser at once. Before the absolute limit (which activity
/// cannot move) it says so instead, without the button. When the session does end, every tab
/// shows it, as without the warning.
///
/// Rendered for a signed-in user only, as a `hidden` element (`role="alert"`, class
/// `class`; `[data-idle]`, `[data-limit]`, `[data-countdown]`, `[data-stay]` inside) and a small
/// script of this crate's (`/session/expiry-warning.js`) that only such a page loads: the WASM
/// bundle, which every page loads, does not grow (docs/decisions/0012-expiry-warning-script.md).
/// Works the same with Leptos' islands and with full hydration. Put it in the app's layout.
///
/// `before` is capped at a third of the idle timeout, so that a warning is not on screen all the
/// time.
///
/// ```
/// use leptos::prelude::*;
/// use leptos_authgear::SessionExpiryWarning;
///
/// #[component]
/// fn Layout() -> impl IntoView {
///     // Two minutes before the session would end.
///     view! { <SessionExpiryWarning before=120 class="expiry-warning"/> }
/// }
/// ```
#[component]
pub fn SessionExpiryWarning(
    /// Seconds before the end at which the warning appears (default 120).
    #[prop(default = 120)]
    before: u64,
    /// The element's class.
    #[prop(optional, into)]
    class: Option<String>,
    /// The words before the idle timeout; the time left follows.
    #[prop(default = "You have not used the app for a while. You will be signed out in")]
    idle_text: &'static str,
    /// The words before the absolute limit; the time left follows.
    #[prop(default = "Your session reaches its time limit; you will need to sign in again in")]
    limit_text: &'static str,
    /// The button's words.
    #[prop(default = "Stay signed in")]
    stay_label: &'static str,
) -> impl IntoView {
    let auth = use_auth();
    let user = auth.user().get_untracked()?;
    #[cfg(feature = "ssr")]
    let before = crate::server::expiry_warning_before(before);
    let script = format!(
        "{}?v={}",
        join(auth.base_path(), EXPIRY_WARNING_SCRIPT),
        env!("CARGO_PKG_VERSION")
    );
    Some(view! {
        <div
            class=class
            role="alert"
            hidden
            data-session-expiry=""
            data-before=before.to_string()
            data-ends-at=user.session_ends_at.to_string()
            data-status=join(auth.base_path(), STATUS).into_owned()
            data-touch=CurrentUser::PATH
        >
            <p data-idle="">{idle_text} " " <span data-countdown=""></span> "."</p>
            <p data-limit="" hidden>{limit_text} " " <span data-countdown=""></span> "."</p>
            <button type="button" data-stay="">{stay_label}</button>
        </div>
        <script type="module" src=script nonce=use_nonce()></script>
    })
}
