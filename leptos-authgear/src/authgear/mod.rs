//! What is Authgear's own, kept here so that the rest works with any OpenID Connect provider.
//!
//! - Sign-up: Authgear opens its sign-up page rather than its login page when the authorization
//!   request carries `x_page=signup` ([`SignupLink`](crate::SignupLink)).
//! - Account settings: a signed-in user manages their account (email, sessions, passkeys) at
//!   `<issuer>/settings` ([`AuthContext::account_settings_url`](crate::AuthContext::account_settings_url)),
//!   opened already signed in with a one-time app session token when the client may have
//!   Authgear's full-access scope (`settings_link.rs`, `AUTHGEAR_SETTINGS_SIGNED_IN`).
//! - Authgear sends no back-channel logout; its signed webhooks are how it tells an app that
//!   sessions ended (`webhook.rs`: `POST /webhooks/authgear`, on when `AUTHGEAR_WEBHOOK_SECRET`
//!   is set; served by `server::Auth::routes`).

#[cfg(feature = "ssr")]
pub(crate) mod settings_link;
#[cfg(feature = "ssr")]
pub(crate) mod webhook;

/// Authgear's scope for first-party clients that lets a refresh token be exchanged for an app
/// session token (asked for by `AUTHGEAR_SETTINGS_SIGNED_IN` only).
#[cfg(feature = "ssr")]
pub(crate) const FULL_ACCESS_SCOPE: &str = "https://authgear.com/scopes/full-access";

/// The extra authorization parameter that opens Authgear's sign-up page.
#[cfg(feature = "ssr")]
pub(crate) const SIGNUP_PAGE: (&str, &str) = ("x_page", "signup");

/// Authgear's account settings page for `issuer`.
#[cfg(feature = "ssr")]
pub(crate) fn settings_url(issuer: &str) -> String {
    format!("{}/settings", issuer.trim_end_matches('/'))
}
