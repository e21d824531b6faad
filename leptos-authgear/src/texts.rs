//! The words the components show a person, which an app may replace (its language, its tone).

/// The words an [`AuthProvider`](crate::AuthProvider) was given, for the components under it.
#[derive(Clone, Copy)]
pub(crate) struct Texts(pub(crate) &'static AuthTexts);

/// The words this crate's components show a person: replace them with
/// `<AuthProvider texts=&MY_TEXTS>` (a `static`, in the app's language). The error pages of the
/// login's routes are the server's: see `server::SettingsBuilder::error_page`.
///
/// ```
/// use leptos_authgear::AuthTexts;
///
/// static FRENCH: AuthTexts = AuthTexts {
///     session_ended: "Votre session est terminée. ",
///     before_login_link: "Veuillez ",
///     login_link: "vous connecter",
///     after_login_link: " pour voir cette page.",
///     ..AuthTexts::ENGLISH
/// };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthTexts {
    /// Before the notice of a page only for signed-in users, when the session ended while it
    /// was open: `"Your session has ended. "`.
    pub session_ended: &'static str,
    /// The notice's words before its login link: `"Please "`.
    pub before_login_link: &'static str,
    /// The login link's words: `"log in"`.
    pub login_link: &'static str,
    /// The notice's words after its login link: `" to see this page."`.
    pub after_login_link: &'static str,
    /// Shown instead of a page only for signed-in users when the server could not read the
    /// session (its store is down): `None` shows the server's own words.
    pub unavailable: Option<&'static str>,
}

impl AuthTexts {
    /// The crate's words, in English.
    pub const ENGLISH: AuthTexts = AuthTexts {
        session_ended: "Your session has ended. ",
        before_login_link: "Please ",
        login_link: "log in",
        after_login_link: " to see this page.",
        unavailable: None,
    };
}

impl Default for AuthTexts {
    fn default() -> Self {
        Self::ENGLISH
    }
}
