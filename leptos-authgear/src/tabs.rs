//! Every open tab of a browser follows its session (docs/decisions/0005-every-tab-at-once.md):
//!
//! - One tab per browser (the holder of a Web Lock) listens to the events route
//!   (`AuthPaths::events`) while signed in, and tells the others when the server
//!   says the session ended. One connection per browser, not per tab: browsers allow six
//!   connections per server over HTTP/1.1, and a stream per tab would use them up.
//! - The tabs talk over a `BroadcastChannel`: `ended` (the session ended: show the guest view,
//!   once the server confirms it: the end heard may be that of the session a login in another
//!   tab has just replaced)
//!   and `signed-in` (a tab loaded as a signed-in user: a guest tab asks the server who it is).
//!   A tab that is logging out (a [`LogoutButton`](crate::LogoutButton)'s form was submitted)
//!   passes `ended` on but does not act on it: its own page is going (to the provider's logout),
//!   and turning it to the guest view first would only flash.
//! - Each tab also asks the status route (`AuthPaths::status`) every 30 seconds and when it regains
//!   focus (which also refreshes a due access token, which is how a revoked one is found).
//!
//! Browser only; on the server [`watch_session`] does nothing.

use crate::context::AuthContext;

#[cfg(feature = "hydrate")]
mod browser {
    use super::AuthContext;
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{BroadcastChannel, EventSource, MessageEvent};

    /// The channel's and the lock's name.
    const NAME: &str = "leptos-authgear";
    const ENDED: &str = "ended";
    const SIGNED_IN: &str = "signed-in";

    pub fn watch_session(auth: AuthContext) {
        let signed_in = auth.user().with_untracked(Option::is_some);
        let channel = BroadcastChannel::new(NAME).ok().map(Rc::new);
        let tell = {
            let channel = channel.clone();
            move |message: &str| {
                if let Some(channel) = &channel {
                    let _ = channel.post_message(&JsValue::from_str(message));
                }
            }
        };
        // Asks the server whether the session still stands; if not, shows the guest view here and
        // tells the other tabs.
        let check = {
            let tell = tell.clone();
            move || {
                if auth.user().with_untracked(Option::is_none) || auth.is_leaving() {
                    return;
                }
                let tell = tell.clone();
                spawn_local(async move {
                    if let Some(false) =
                        crate::status::signed_in(&auth.route(crate::paths::STATUS)).await
                    {
                        auth.end_session();
                        tell(ENDED);
                    }
                })
            }
        };
        if let Some(channel) = &channel {
            let check = check.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                match event.data().as_string().as_deref() {
                    // It may be the session a login in yet another tab has just replaced (a login
                    // takes a new id, and the old one's end is announced): ask the server.
                    Some(ENDED) => check(),
                    Some(SIGNED_IN) if auth.user().get_untracked().is_none() => catch_up(auth),
                    _ => {}
                }
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            // Lives as long as the page.
            on_message.forget();
        }
        if signed_in {
            tell(SIGNED_IN);
        }

        let leader = RwSignal::new(false);
        become_leader_when_free(leader);
        let stream: Rc<RefCell<Option<Listening>>> = Rc::default();
        Effect::new({
            let tell = tell.clone();
            move |_| {
                let listen = leader.get() && auth.user().with(Option::is_some);
                let mut stream = stream.borrow_mut();
                match (listen, stream.is_some()) {
                    (true, false) => *stream = Listening::start(auth, tell.clone()),
                    (false, true) => *stream = None,
                    _ => {}
                }
            }
        });

        let interval = set_interval_with_handle(check.clone(), Duration::from_secs(30)).ok();
        let focus = window_event_listener(leptos::ev::focus, move |_| check());
        // Any form that posts to the logout route (a `LogoutButton`, hydrated or not).
        let logout = window_event_listener(leptos::ev::submit, move |event| {
            let action = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .and_then(|form| form.get_attribute("action"));
            if action
                .as_deref()
                .and_then(|action| action.strip_prefix(auth.base_path()))
                == Some(crate::paths::LOGOUT)
            {
                auth.leave();
            }
        });
        on_cleanup(move || {
            if let Some(interval) = interval {
                interval.clear();
            }
            focus.remove();
            logout.remove();
        });
    }

    /// Asks the server who is signed in now, and shows it.
    fn catch_up(auth: AuthContext) {
        spawn_local(async move {
            if let Ok(state) = crate::current_user().await {
                auth.adopt(state);
            }
        });
    }

    /// Sets `leader` once this tab holds the browser's lock (at once, or when the tab that held
    /// it closes or navigates). Without Web Locks, every tab listens for itself.
    fn become_leader_when_free(leader: RwSignal<bool>) {
        let locks = js_sys::Reflect::get(&window().navigator(), &JsValue::from_str("locks"))
            .ok()
            .filter(|locks| !locks.is_undefined());
        let request = locks.as_ref().and_then(|locks| {
            js_sys::Reflect::get(locks, &JsValue::from_str("request"))
                .ok()?
                .dyn_into::<js_sys::Function>()
                .ok()
        });
        let (Some(locks), Some(request)) = (locks, request) else {
            leader.set(true);
            return;
        };
        // Granted once; held until the page goes, by a promise that never settles.
        let granted = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
            leader.set(true);
            js_sys::Promise::new(&mut |_resolve, _reject| {})
        });
        if request
            .call2(&locks, &JsValue::from_str(NAME), &granted)
            .is_err()
        {
            leader.set(true);
        }
    }

    /// The leader's stream of the events route; closed when dropped.
    struct Listening {
        source: EventSource,
        _on_ended: Closure<dyn FnMut(MessageEvent)>,
    }

    impl Listening {
        fn start(auth: AuthContext, tell: impl Fn(&str) + 'static) -> Option<Self> {
            let source = EventSource::new(&auth.route(crate::paths::EVENTS)).ok()?;
            let on_ended = Closure::<dyn FnMut(MessageEvent)>::new(move |_event: MessageEvent| {
                // A tab that is logging out only tells the others.
                if !auth.is_leaving() {
                    auth.end_session();
                }
                tell(ENDED);
            });
            source
                .add_event_listener_with_callback(ENDED, on_ended.as_ref().unchecked_ref())
                .ok()?;
            Some(Self {
                source,
                _on_ended: on_ended,
            })
        }
    }

    impl Drop for Listening {
        fn drop(&mut self) {
            self.source.close();
        }
    }
}

/// Makes this tab follow the session, with the others of the browser (see the module).
#[cfg(feature = "hydrate")]
pub(crate) fn watch_session(auth: AuthContext) {
    browser::watch_session(auth);
}

/// On the server: nothing.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn watch_session(_auth: AuthContext) {}
