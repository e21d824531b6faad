//! Where this crate's routes are. One setting places all of them: a base path (none by default:
//! `/login`, `/callback`, …; with `/auth`: `/auth/login`, `/auth/callback`, …). The server
//! mounts them there ([`AuthPaths`]) and writes the base on the page, whose links, buttons and
//! session watcher join the same suffixes to it, so nothing assumes a constant.

use std::borrow::Cow;

/// Each route's path under the base.
pub(crate) const LOGIN: &str = "/login";
pub(crate) const LOGOUT: &str = "/logout";
pub(crate) const STATUS: &str = "/session/status";
pub(crate) const EVENTS: &str = "/session/events";
/// `SessionExpiryWarning`'s script.
pub(crate) const EXPIRY_WARNING_SCRIPT: &str = "/session/expiry-warning.js";
#[cfg(feature = "ssr")]
const CALLBACK: &str = "/callback";
#[cfg(feature = "ssr")]
const BACKCHANNEL_LOGOUT: &str = "/backchannel-logout";
#[cfg(feature = "ssr")]
const WEBHOOKS: &str = "/webhooks/authgear";
#[cfg(feature = "ssr")]
const ACCOUNT_SETTINGS: &str = "/account-settings";

/// `route` under `base`: borrowed, with no allocation, at the root.
pub(crate) fn join(base: &str, route: &'static str) -> Cow<'static, str> {
    if base.is_empty() {
        return Cow::Borrowed(route);
    }
    // Not `format!`: the browser's bundle has this at every route it names.
    Cow::Owned(base.to_owned() + route)
}

/// `<base>/login?return_to=<path>`: the login that comes back to `return_to`, or to `/`.
pub(crate) fn login_url_at(base: &str, return_to: Option<&str>) -> String {
    let mut url = join(base, LOGIN).into_owned();
    if let Some(path) = return_to {
        url.push_str("?return_to=");
        encode_query_value(path, &mut url);
    }
    url
}

/// `action?return_to=<path>`: a form's action that names the page to come back to (a plain form
/// post to a server function is answered with a redirect there).
pub(crate) fn with_return_to(action: &str, path: &str) -> String {
    let mut url = action.to_owned();
    url.push_str("?return_to=");
    encode_query_value(path, &mut url);
    url
}

/// Appends `name=value` (encoded) to `url`'s query.
pub(crate) fn push_query_param(url: &mut String, name: &str, value: &str) {
    // A byte search: `str::contains` would bring its pattern searcher into the bundle.
    url.push(if url.as_bytes().contains(&b'?') {
        '&'
    } else {
        '?'
    });
    url.push_str(name);
    url.push('=');
    encode_query_value(value, url);
}

/// Appends `value` to `encoded`, percent-encoding everything but unreserved characters and `/`
/// (a path stays readable).
fn encode_query_value(value: &str, encoded: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

/// The paths of the login's routes, all under one base path (feature `ssr`). Build it with
/// [`AuthPaths::under`]; [`AuthPaths::default`] has today's paths (no base).
///
/// ```
/// use leptos_authgear::AuthPaths;
///
/// let paths = AuthPaths::under("/auth").expect("a plain path");
/// assert_eq!(paths.login(), "/auth/login");
/// assert_eq!(paths.callback(), "/auth/callback");
/// assert_eq!(AuthPaths::default().login(), "/login");
/// assert!(AuthPaths::under("auth?x").is_err());
/// ```
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct AuthPaths {
    base: Cow<'static, str>,
    login: Cow<'static, str>,
    logout: Cow<'static, str>,
    status: Cow<'static, str>,
    events: Cow<'static, str>,
    callback: Cow<'static, str>,
    backchannel_logout: Cow<'static, str>,
    webhooks: Cow<'static, str>,
    account_settings: Cow<'static, str>,
}

/// A base path longer than this is a mistake (every route's path is built from it).
#[cfg(feature = "ssr")]
const MAX_BASE_LEN: usize = 100;

#[cfg(feature = "ssr")]
impl AuthPaths {
    /// Every route under `base`: `""` or `"/"` for none, else a plain path such as `/auth` or
    /// `/account/auth` (letters, digits and `-_.~`, segments separated by one `/`; a trailing
    /// `/` is dropped). An error says why `base` is not one.
    pub fn under(base: &str) -> Result<Self, String> {
        let base = base.strip_suffix('/').unwrap_or(base);
        let plain = base.is_empty()
            || (base.starts_with('/')
                && base.len() <= MAX_BASE_LEN
                && base[1..].split('/').all(|segment| {
                    !segment.is_empty()
                        && segment != "."
                        && segment != ".."
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
                }));
        if !plain {
            return Err(format!(
                "`{base}` is not a plain path; expected e.g. /auth (letters, digits, `-_.~`, \
                 segments separated by one `/`)"
            ));
        }
        Ok(Self {
            login: join(base, LOGIN),
            logout: join(base, LOGOUT),
            status: join(base, STATUS),
            events: join(base, EVENTS),
            callback: join(base, CALLBACK),
            backchannel_logout: join(base, BACKCHANNEL_LOGOUT),
            webhooks: join(base, WEBHOOKS),
            account_settings: join(base, ACCOUNT_SETTINGS),
            base: Cow::Owned(base.to_owned()),
        })
    }

    /// The base path: `""` when the routes are at the root.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET`: starts a login (`?return_to=`, `?screen=signup`, `?prompt=login`, `?max_age=`); see
    /// [`login_url`](crate::login_url).
    pub fn login(&self) -> &str {
        &self.login
    }

    /// `GET`: where the provider sends the browser back (the redirect URI's path).
    pub fn callback(&self) -> &str {
        &self.callback
    }

    /// `POST`, same-origin only: logs out here and at the provider.
    pub fn logout(&self) -> &str {
        &self.logout
    }

    /// `GET`, JSON `{"signed_in": bool}`: whether the browser's session still stands.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// `GET`, server-sent events (`event: ended`): one tab of a signed-in browser hears that
    /// its session ended.
    pub fn events(&self) -> &str {
        &self.events
    }

    /// `POST`: where the provider posts logout tokens (OpenID Connect Back-Channel Logout).
    pub fn backchannel_logout(&self) -> &str {
        &self.backchannel_logout
    }

    /// `POST`: Authgear's webhooks, when a webhook secret is set (unless the webhook settings
    /// name a path of their own).
    pub fn webhooks(&self) -> &str {
        &self.webhooks
    }

    /// `GET`, when the settings open signed in (`AUTHGEAR_SETTINGS_SIGNED_IN`): sends the
    /// browser to Authgear's settings page, signed in there with a one-time token.
    pub fn account_settings(&self) -> &str {
        &self.account_settings
    }

    /// The paths of the routes a browser opens as pages or calls, which are never the app's
    /// own pages.
    pub(crate) fn is_route(&self, path: &str) -> bool {
        [
            self.login(),
            self.callback(),
            self.logout(),
            self.status(),
            self.events(),
            self.account_settings(),
        ]
        .contains(&path)
    }

    /// Paths for as long as the program runs (an app builds its settings once), so that a
    /// request can hold them as a plain reference, at no cost.
    pub(crate) fn into_static(self) -> &'static AuthPaths {
        if self.base.is_empty() {
            default_paths()
        } else {
            Box::leak(Box::new(self))
        }
    }
}

/// Every path follows from the base.
#[cfg(feature = "ssr")]
impl PartialEq for AuthPaths {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

#[cfg(feature = "ssr")]
impl Eq for AuthPaths {}

#[cfg(feature = "ssr")]
impl Default for AuthPaths {
    fn default() -> Self {
        DEFAULT.clone()
    }
}

/// Today's paths, at the root: a constant, so that an app on them builds nothing.
#[cfg(feature = "ssr")]
static DEFAULT: AuthPaths = AuthPaths {
    base: Cow::Borrowed(""),
    login: Cow::Borrowed(LOGIN),
    logout: Cow::Borrowed(LOGOUT),
    status: Cow::Borrowed(STATUS),
    events: Cow::Borrowed(EVENTS),
    callback: Cow::Borrowed(CALLBACK),
    backchannel_logout: Cow::Borrowed(BACKCHANNEL_LOGOUT),
    webhooks: Cow::Borrowed(WEBHOOKS),
    account_settings: Cow::Borrowed(ACCOUNT_SETTINGS),
};

/// Today's paths, at the root.
#[cfg(feature = "ssr")]
pub(crate) fn default_paths() -> &'static AuthPaths {
    &DEFAULT
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn login_urls_follow_the_paths() {
        assert_eq!(login_url_at("/auth", None), "/auth/login");
        assert_eq!(
            login_url_at("/auth", Some("/account")),
            "/auth/login?return_to=/account"
        );
    }

    #[test]
    fn the_default_paths_are_at_the_root() {
        let paths = AuthPaths::default();
        assert_eq!(paths.base(), "");
        assert_eq!(
            [
                paths.login(),
                paths.callback(),
                paths.logout(),
                paths.status(),
                paths.events(),
                paths.backchannel_logout(),
                paths.webhooks(),
            ],
            [
                "/login",
                "/callback",
                "/logout",
                "/session/status",
                "/session/events",
                "/backchannel-logout",
                "/webhooks/authgear"
            ]
        );
        assert_eq!(AuthPaths::under("/").expect("root"), paths);
        assert!(matches!(join("", LOGIN), Cow::Borrowed("/login")));
    }

    #[test]
    fn a_base_path_places_every_route() {
        let paths = AuthPaths::under("/auth/").expect("plain");
        assert_eq!(paths.base(), "/auth");
        assert_eq!(paths.logout(), "/auth/logout");
        assert_eq!(paths.events(), "/auth/session/events");
        assert!(paths.is_route("/auth/callback"));
        assert!(!paths.is_route("/callback"));
        assert_eq!(
            AuthPaths::under("/a/b-c").expect("plain").login(),
            "/a/b-c/login"
        );
    }

    #[test]
    fn a_base_that_is_not_a_plain_path_is_refused() {
        for bad in [
            "auth",
            "//auth",
            "/a//b",
            "/a/../b",
            "/a/./b",
            "/a?b",
            "/a b",
            "/a%2f",
            "https://x/a",
        ] {
            assert!(AuthPaths::under(bad).is_err(), "{bad}");
        }
        assert!(AuthPaths::under(&format!("/{}", "a".repeat(MAX_BASE_LEN))).is_err());
    }
}
