//! Where to send the browser after login: a local path, by construction.

use url::Url;

/// Long enough for any real page, short enough to keep session records small.
const MAX_LEN: usize = 2048;

/// A path on this site, such as `/` or `/orders?page=2`. It can only be built from a value
/// that cannot leave the site: it starts with one `/`, has no `\`, no control characters or
/// whitespace, and resolves to the same origin. The app is never an open redirector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("return_to must be a path on this site, such as /profile")]
pub struct InvalidReturnTo;

impl ReturnTo {
    pub fn home() -> Self {
        Self("/".to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidReturnTo> {
        let bytes = raw.as_bytes();
        let local_path = raw.len() <= MAX_LEN
            && bytes.first() == Some(&b'/')
            // `//host` and `/\host` are protocol-relative URLs to browsers.
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && !raw.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
        if !local_path || !stays_on_site(raw) {
            return Err(InvalidReturnTo);
        }
        Ok(Self(raw.to_owned()))
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A second opinion from a URL parser: joined onto a base, the path keeps the base's origin.
fn stays_on_site(path: &str) -> bool {
    let Ok(base) = Url::parse("http://app.invalid/") else {
        return false;
    };
    base.join(path)
        .is_ok_and(|url| url.origin() == base.origin() && url.username().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_accepted() {
        for good in [
            "/",
            "/profile",
            "/a/b?c=d&e=%2F%2F#top",
            "/%5Cevil.com",
            "/caf%C3%A9",
        ] {
            assert_eq!(
                ReturnTo::parse(good).map(|r| r.into_string()),
                Ok(good.to_owned())
            );
        }
    }

    #[test]
    fn anything_that_can_leave_the_site_is_rejected() {
        for bad in [
            "",
            "profile",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/\\/evil.com",
            "https://evil.com",
            "javascript:alert(1)",
            "/\t/evil.com",
            "/\n/evil.com",
            " /profile",
            "/pro file",
            "/a\\b",
        ] {
            assert_eq!(ReturnTo::parse(bad), Err(InvalidReturnTo), "{bad:?}");
        }
    }

    #[test]
    fn overly_long_paths_are_rejected() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(ReturnTo::parse(&long), Err(InvalidReturnTo));
    }

    proptest::proptest! {
        /// Whatever comes in (any text, or text built from the pieces open redirects are made
        /// of), parsing never panics, and what it accepts stays on this site.
        #[test]
        fn nothing_accepted_leaves_the_site(
            raw in proptest::prop_oneof![
                ".*",
                "[/\\\\a-z:.@%?#0-9 \t]{0,40}",
                "(/|//|/\\\\|https?:|javascript:|%2F|%5C)[a-z./\\\\@:%0-9]{0,30}",
            ]
        ) {
            if let Ok(return_to) = ReturnTo::parse(&raw) {
                let path = return_to.as_str();
                proptest::prop_assert!(path.starts_with('/'));
                proptest::prop_assert!(!path.starts_with("//") && !path.contains('\\'));
                let base = Url::parse("http://app.invalid/").expect("base");
                let joined = base.join(path).expect("joins");
                proptest::prop_assert_eq!(joined.host_str(), Some("app.invalid"));
                proptest::prop_assert_eq!(joined.scheme(), "http");
            }
        }
    }
}
