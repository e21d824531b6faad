//! "Your devices": [`SessionList`], the signed-in user's sessions with a button to sign each
//! out and one for all but this browser, over the server functions
//! [`list_sessions`](crate::list_sessions), [`end_session`](crate::end_session) and
//! [`end_other_sessions`](crate::end_other_sessions).

use crate::links::current_path;
use crate::paths::with_return_to;
use crate::{list_sessions, EndOtherSessions, EndSession, SessionInfo};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The signed-in user's live sessions, this browser's first: each with its device, when it
/// signed in and was last active, and a "Sign out" button (not on this browser's: that is the
/// [`LogoutButton`](crate::LogoutButton)'s job); then "Sign out all other devices" when there
/// are others. The buttons are plain forms posted to the server functions: they work without
/// WASM (nothing of this component is in the bundle), and the server brings the browser back
/// to the page (named in the forms' `?return_to=`), or through a login first when
/// [`recent_login_to_end_sessions`](crate::server::SettingsBuilder::recent_login_to_end_sessions)
/// asks for one. The ended sessions' open pages turn to the guest view within seconds.
///
/// Styled by the app: a `<ul class="session-list">` of `<li class="session">` (with
/// `aria-current="true"` on this browser's), `.session-device`, `.session-this`,
/// `.session-times`, `.session-end`, and the `.sessions-end-others` button.
///
/// Rendered on the server once the list is read: [`Auth::leptos_routes`](crate::server::Auth::leptos_routes)
/// renders such a page asynchronously (and does not keep it); `leptos_axum`'s renderers wait
/// for it as for any `Suspense` (the demo, which this crate's tests drive, uses the former).
///
/// ```
/// use leptos::prelude::*;
/// use leptos_authgear::{RequireUser, SessionList};
///
/// #[component]
/// fn Devices() -> impl IntoView {
///     view! {
///         <RequireUser>
///             <h2 id="devicesTitle">"Your devices"</h2>
///             <SessionList/>
///         </RequireUser>
///     }
/// }
/// ```
#[component]
pub fn SessionList(
    /// The button that signs one session out.
    #[prop(default = "Sign out")]
    end_label: &'static str,
    /// The button that signs out every session but this browser's.
    #[prop(default = "Sign out all other devices")]
    end_others_label: &'static str,
    /// Beside this browser's session.
    #[prop(default = "This browser")]
    this_browser_label: &'static str,
) -> impl IntoView {
    // The first, synchronous pass of the crate's renderer: the page is rendered again, waiting.
    #[cfg(feature = "ssr")]
    if crate::server::page_waits() {
        return Either::Left(());
    }
    let sessions = Resource::new(|| (), |_| list_sessions());
    // The forms name this page, to be brought back to it.
    let here = current_path();
    let labels = Labels {
        end: end_label,
        end_others: end_others_label,
        this_browser: this_browser_label,
        end_action: with_return_to(EndSession::PATH, &here),
        end_others_action: with_return_to(EndOtherSessions::PATH, &here),
    };
    Either::<(), _>::Right(view! {
        <Suspense>
            {move || {
                let labels = labels.clone();
                Suspend::new(async move {
                    match sessions.await {
                        Ok(sessions) => Either::Left(session_list(sessions, labels)),
                        Err(error) => Either::Right(view! {
                            <p class="error" role="alert">{error.to_string()}</p>
                        }),
                    }
                })
            }}
        </Suspense>
    })
}

#[derive(Clone)]
struct Labels {
    end: &'static str,
    end_others: &'static str,
    this_browser: &'static str,
    end_action: String,
    end_others_action: String,
}

fn session_list(sessions: Vec<SessionInfo>, labels: Labels) -> impl IntoView {
    let others = sessions.iter().filter(|info| !info.this_browser).count();
    let items = sessions
        .into_iter()
        .map(|info| session_item(info, &labels))
        .collect_view();
    view! {
        <ul class="session-list">{items}</ul>
        {(others > 0).then(|| view! {
            <form method="post" action=labels.end_others_action>
                <button type="submit" class="sessions-end-others">{labels.end_others}</button>
            </form>
        })}
    }
}

fn session_item(info: SessionInfo, labels: &Labels) -> impl IntoView {
    let signed_in = crate::format_utc(info.signed_in_at);
    let active = crate::format_utc(info.last_active_at);
    // The button's name says which session it ends, for a screen reader's list of buttons.
    let end_name = format!("{} {}, signed in {signed_in}", labels.end, info.device);
    let end_label = labels.end;
    let end = (!info.this_browser).then(|| {
        view! {
            <form method="post" action=labels.end_action.clone()>
                <input type="hidden" name="handle" value=info.handle/>
                <button type="submit" class="session-end" aria-label=end_name>{end_label}</button>
            </form>
        }
    });
    view! {
        <li class="session" aria-current=info.this_browser.then_some("true")>
            <span class="session-device">{info.device}</span>
            {info.this_browser.then(|| view! { <span class="session-this">{labels.this_browser}</span> })}
            <span class="session-times">
                "Signed in " <time datetime=iso(info.signed_in_at)>{signed_in}</time>
                " · last active " <time datetime=iso(info.last_active_at)>{active}</time>
            </span>
            {end}
        </li>
    }
}

/// `2026-11-28T12:05Z`, for `<time datetime>`.
fn iso(unix: i64) -> String {
    let (year, month, day, hour, minute) = crate::time_text::civil(unix);
    format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}Z")
}
