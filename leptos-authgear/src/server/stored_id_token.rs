//! How a session record keeps the ID token (`TokenSet::id_token`, `#[serde(with)]`): its header
//! and payload as the JSON text they encode, beside the base64url signature, instead of one
//! base64url string. The payload repeats the claims the record keeps anyway, which the memory
//! store's compression then finds (bench/README.md, "The ID token kept decoded"). The token comes
//! back exactly as it was received — it goes back to the provider as `id_token_hint` — and one
//! whose parts would not encode back to the same text is kept as it came. Records written before
//! (the token as one string) read as before.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Parts {
        header: String,
        payload: String,
        signature: String,
    },
    AsReceived(String),
}

impl Stored {
    fn new(token: &str) -> Self {
        Self::parts(token).unwrap_or_else(|| Self::AsReceived(token.to_owned()))
    }

    fn parts(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let decode = |part: &str| {
            let text = String::from_utf8(URL_SAFE_NO_PAD.decode(part).ok()?).ok()?;
            // Only where it encodes back to the very same text.
            (URL_SAFE_NO_PAD.encode(&text) == part).then_some(text)
        };
        Some(Self::Parts {
            header: decode(header)?,
            payload: decode(payload)?,
            signature: signature.to_owned(),
        })
    }

    fn token(self) -> String {
        match self {
            Self::Parts {
                header,
                payload,
                signature,
            } => format!(
                "{}.{}.{signature}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            ),
            Self::AsReceived(token) => token,
        }
    }
}

pub fn serialize<S: Serializer>(token: &str, serializer: S) -> Result<S::Ok, S::Error> {
    Stored::new(token).serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Stored::deserialize(deserializer).map(Stored::token)
}

#[cfg(test)]
mod tests {
    use super::Stored;

    /// Through a record's path: serde_json's `Value`, as tower-sessions keeps records.
    fn round_trip(token: &str) -> (serde_json::Value, String) {
        let value = serde_json::to_value(Stored::new(token)).expect("serialize");
        let back: Stored = serde_json::from_value(value.clone()).expect("deserialize");
        (value, back.token())
    }

    #[test]
    fn a_token_comes_back_exactly_and_is_kept_decoded() {
        // Header {"alg":"RS256","kid":"k"}, payload {"sub":"ada","email":"ada@example.com"}.
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.\
                     eyJzdWIiOiJhZGEiLCJlbWFpbCI6ImFkYUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl";
        let (value, back) = round_trip(token);
        assert_eq!(back, token);
        assert_eq!(value["header"], r#"{"alg":"RS256","kid":"k"}"#);
        assert_eq!(
            value["payload"],
            r#"{"sub":"ada","email":"ada@example.com"}"#
        );
    }

    #[test]
    fn what_would_not_come_back_exactly_is_kept_as_received() {
        for token in [
            // Trailing bits set in the last character ("eyJhIjoxfQ" is canonical).
            "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfR.c2ln",
            // Padding, not base64url, not UTF-8, too few or too many parts.
            "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ==.c2ln",
            "eyJhbGciOiJSUzI1NiJ9.e+J/.c2ln",
            "eyJhbGciOiJSUzI1NiJ9.__8.c2ln",
            "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ",
            "a.b.c.d",
            "",
        ] {
            let (value, back) = round_trip(token);
            assert_eq!(back, token);
            assert_eq!(value, serde_json::Value::String(token.into()), "{token}");
        }
    }

    #[test]
    fn a_token_stored_as_one_string_reads_as_before() {
        let old = serde_json::json!("eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln");
        let back: Stored = serde_json::from_value(old).expect("deserialize");
        assert_eq!(back.token(), "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln");
    }
}
