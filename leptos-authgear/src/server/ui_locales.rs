//! The user's language for the provider's pages: OpenID Connect's `ui_locales` (a
//! space-separated list of BCP 47 tags, preferred first), which Authgear honours. A login takes
//! it from its query (`/login?ui_locales=fr`), else from the browser's `Accept-Language` when
//! the settings say so, else from the settings' default.

use std::fmt;

/// Tags sent at most: a preference list, not a catalogue.
const MAX_TAGS: usize = 5;
/// A BCP 47 tag is at most 35 characters in practice (RFC 5646 §4.4.1).
const MAX_TAG_LEN: usize = 35;

/// A checked `ui_locales` value: one to five BCP 47 tags (letters, digits and `-`), preferred
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiLocales(Vec<String>);

impl UiLocales {
    /// `fr`, `fr-CA en`, …: an error names what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tags: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if tags.is_empty() {
            return Err("names no language (e.g. `fr` or `fr-CA en`)".to_owned());
        }
        if tags.len() > MAX_TAGS {
            return Err(format!("names more than {MAX_TAGS} languages"));
        }
        if let Some(tag) = tags.iter().find(|tag| !is_tag(tag)) {
            return Err(format!(
                "`{}` is not a language tag (letters, digits and `-`, e.g. `fr-CA`)",
                tag.chars().take(MAX_TAG_LEN + 5).collect::<String>()
            ));
        }
        Ok(Self(tags))
    }

    /// The languages of an `Accept-Language` header, by their `q` (highest first, `q=0` and `*`
    /// dropped, at most five); `None` when it names none this can send.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(u16, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, item)| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let weight = parts
                    .find_map(|part| part.trim().strip_prefix("q="))
                    .map_or(Some(1000), quality)?;
                (weight > 0 && tag != "*" && is_tag(tag)).then_some((weight, position, tag))
            })
            .collect();
        // Highest weight first; the header's order among equals.
        ranked.sort_by_key(|&(weight, position, _)| (std::cmp::Reverse(weight), position));
        let tags: Vec<String> = ranked
            .into_iter()
            .take(MAX_TAGS)
            .map(|(_, _, tag)| tag.to_owned())
            .collect();
        (!tags.is_empty()).then_some(Self(tags))
    }

    /// The tags, preferred first.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Space-separated, as the parameter carries them.
impl fmt::Display for UiLocales {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_TAG_LEN
        && !tag.starts_with('-')
        && tag
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// `q`'s value in thousandths (`0.8` → 800); `None` for a malformed one (the item is dropped).
fn quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked() {
        assert_eq!(UiLocales::parse("fr").unwrap().to_string(), "fr");
        assert_eq!(
            UiLocales::parse(" fr-CA  en ").unwrap().to_string(),
            "fr-CA en"
        );
        for bad in [
            "",
            "  ",
            "fr_FR",
            "fr;q=1",
            "a b c d e f",
            "-fr",
            "<script>",
            &"x".repeat(36),
        ] {
            assert!(UiLocales::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accept_language_is_ranked_by_quality() {
        let locales = |header| UiLocales::from_accept_language(header).map(|l| l.to_string());
        assert_eq!(
            locales("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5").as_deref(),
            Some("fr-CH fr en")
        );
        assert_eq!(locales("en;q=0.5, ja").as_deref(), Some("ja en"));
        assert_eq!(locales("de;q=0, it").as_deref(), Some("it"));
        assert_eq!(locales("a, b, c, d, e, f").as_deref(), Some("a b c d e"));
        // Nothing usable: no parameter at all.
        for header in ["", "*", "de;q=0", "fr;q=abc", "<x>", ";;;,,,"] {
            assert_eq!(locales(header), None, "{header:?}");
        }
    }
}
