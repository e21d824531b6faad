//! [`ProviderKey`]: one of the provider's signing keys (its JWKS), as openidconnect's
//! `CoreJsonWebKey` reads and checks it, with RSA signatures verified by `ring` (already built
//! into the server for rustls) instead of the `rsa` crate, whose verification took three
//! quarters of the server's work for a login (docs/decisions/0009-rsa-signatures-by-ring.md).
//! Everything else — other key types and algorithms, keys `ring` does not take (under 2,048
//! or over 8,192 bits) — goes to `CoreJsonWebKey` as before.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, JwsSigningAlgorithm,
    SignatureVerificationError,
};
use ring::signature::{self, RsaParameters, RsaPublicKeyComponents};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// A key of the provider's JWKS (see the module's documentation).
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct ProviderKey {
    core: CoreJsonWebKey,
    /// The RSA public key's modulus and exponent, when `ring` can verify with it.
    #[serde(skip)]
    rsa: Option<RsaKey>,
}

#[derive(Clone, Debug)]
struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl<'de> Deserialize<'de> for ProviderKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let core = CoreJsonWebKey::deserialize(&value).map_err(D::Error::custom)?;
        let rsa = RsaKey::from_jwk(&value);
        Ok(Self { core, rsa })
    }
}

impl RsaKey {
    /// `n` and `e` of an RSA JWK (RFC 7518 §6.3.1), if `ring` takes a key of that size.
    fn from_jwk(jwk: &serde_json::Value) -> Option<Self> {
        if jwk.get("kty")?.as_str()? != "RSA" {
            return None;
        }
        let decode = |name: &str| URL_SAFE_NO_PAD.decode(jwk.get(name)?.as_str()?).ok();
        let (n, e) = (decode("n")?, decode("e")?);
        let leading_zeros = n.iter().take_while(|byte| **byte == 0).count();
        let n = n[leading_zeros..].to_vec();
        let bits = n.len() * 8 - n.first().map_or(8, |byte| byte.leading_zeros() as usize);
        (2048..=8192).contains(&bits).then_some(Self { n, e })
    }
}

/// `ring`'s verification for a JWS algorithm, if it is an RSA one.
fn ring_parameters(algorithm: &CoreJwsSigningAlgorithm) -> Option<&'static RsaParameters> {
    use CoreJwsSigningAlgorithm as Alg;
    Some(match algorithm {
        Alg::RsaSsaPkcs1V15Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Alg::RsaSsaPkcs1V15Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Alg::RsaSsaPkcs1V15Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Alg::RsaSsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        Alg::RsaSsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        Alg::RsaSsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// The checks `CoreJsonWebKey::verify_signature` makes before it verifies (openidconnect's
/// `check_key_compatibility`, which is not public): the key may sign, is of the algorithm's
/// type, and is not bound to another algorithm.
fn check_compatibility(
    key: &CoreJsonWebKey,
    algorithm: &CoreJwsSigningAlgorithm,
) -> Result<(), &'static str> {
    if key
        .key_use()
        .is_some_and(|key_use| !key_use.allows_signature())
    {
        return Err("key usage not permitted for digital signatures");
    }
    if algorithm.key_type().as_ref() != Some(key.key_type()) {
        return Err("key type does not match signature algorithm");
    }
    match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => Ok(()),
        JsonWebKeyAlgorithm::Algorithm(bound) if bound == algorithm => Ok(()),
        JsonWebKeyAlgorithm::Algorithm(_) => Err("incompatible key algorithm"),
        JsonWebKeyAlgorithm::Unsupported => Err("key algorithm is not a signing algorithm"),
    }
}

impl JsonWebKey for ProviderKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.core.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.core.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.core.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.core.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        Self {
            core: CoreJsonWebKey::new_symmetric(key),
            rsa: None,
        }
    }

    fn verify_signature(
        &self,
        algorithm: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        let (Some(key), Some(parameters)) = (&self.rsa, ring_parameters(algorithm)) else {
            return self.core.verify_signature(algorithm, message, signature);
        };
        check_compatibility(&self.core, algorithm)
            .map_err(|error| SignatureVerificationError::InvalidKey(error.to_owned()))?;
        RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        }
        .verify(parameters, message, signature)
        .map_err(|_| SignatureVerificationError::CryptoError("bad signature".to_owned()))
    }

    fn hash_bytes(
        &self,
        bytes: &[u8],
        algorithm: &CoreJwsSigningAlgorithm,
    ) -> Result<Vec<u8>, String> {
        self.core.hash_bytes(bytes, algorithm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// A 2,048-bit RSA public key made for these tests (`openssl genpkey -algorithm RSA`; the
    /// private key was not kept), and its signatures of [`MESSAGE`] made with `openssl dgst
    /// -sha256 -sign` (PKCS#1 v1.5, and PSS with SHA-256 and a 32-byte salt), base64url.
    const MESSAGE: &[u8] = b"header.payload";
    const MODULUS: &str = concat!(
        "0LZcJNVHYKjue3fJO6aV91s1HQeOcux13zCYEH5QUbbNRINEwR8zKyEqnKzCKFrRlCboSBISgXmVy4Z0",
        "9ddyxfMxl2rP_PcZS_BuSYC5EU84GG6bWJDJfwYknkntRVJpu1flxKwyd4HWIszOufJ9uer92lL5784M",
        "16F_81brNCghyaUWBNBaGnm2pVvDyHj5LyA-ewtBISDqbV62IPoLu9-79j4jLQSUO9h5F1C_5IIBUnxJ",
        "0MnmByWlOnhbHH168ezxMAydLSdJbwXaUMk8pEEIj0TbFJfvajsINAOPPoH5Q02WxForAqMIgJXRsh9p",
        "QkHVBraRTVFA3MHxYtYtbw",
    );
    const PKCS1_SHA256: &str = concat!(
        "rSVjtufNlLGoeiR62xv2-THchG7ix89_RBl38DMBQ0ZGNWkRdEn3TQKgICiAUSdI3egH24WD39SMAdnC",
        "JdNrZvSj52G2tjAcnVxnnVG1kkxmRdH0BEv--4HjZfhorZBKsjqbVNlBZWnlsvt6GwGVD_OZON7nX8cZ",
        "UpxDvcPmHuj3RICHXQVlvJW4FVBF6YDt-wmHVXkNZstvczyYjvxjbpnJCdFKvKLnkp0wsPBYrWbNDF6i",
        "WWScSVkfmHwLEnPSD-j17WU7YOjvqLA3YVCCpfDw4O1n8LxnwZzw_hOzm0PPcF3HJ1DVqh2MhSg2rOyO",
        "KSLj-eIQHp58HT0zjrWNvg",
    );
    const PSS_SHA256: &str = concat!(
        "hf-6Jr6YO5LgrIuUM2zPM4WzVRTzNniLukDkYssZp1pWy-eB0-8u2jmr8K8AsA498tPWSnmFv5hU8GOE",
        "yWuFey2ZIvbhBhb0d2JBw7RC5AMlZIfzdI6ScKxdKrwIadR-nhjAyoOWef_pgvy_cuZkxyw-DnwxTSe4",
        "5C_KvJlm3jtNd547mpQ6-S_Ae7Kt--usqTcsgQR5v2VCyWPh_hb_RikmI3bXXqbEwZcQzLEg29GVqVzI",
        "KuQoRImZEEsSwiYbBJuJRa6FgxJrXaXQIfe5fAKs_36612y4_IRRAi_Wa7i8qet22E4jLyKcwbsEQhM_",
        "q10PxtqcK2SXL9QFVXf9TA",
    );

    fn decoded(base64url: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(base64url).expect("base64url")
    }

    /// The test key as a JWK, with `extra` members.
    fn jwk(extra: serde_json::Value) -> serde_json::Value {
        let mut jwk = serde_json::json!({ "kty": "RSA", "kid": "test", "n": MODULUS, "e": "AQAB" });
        if let (Some(jwk), serde_json::Value::Object(extra)) = (jwk.as_object_mut(), extra) {
            jwk.extend(extra);
        }
        jwk
    }

    /// Both keys' answers, `ProviderKey`'s and openidconnect's own, for one signature.
    fn both(
        jwk: &serde_json::Value,
        algorithm: CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> (Result<(), String>, Result<(), String>) {
        let ours: ProviderKey = serde_json::from_value(jwk.clone()).expect("ProviderKey");
        assert!(ours.rsa.is_some(), "a 2,048-bit RSA key goes to ring");
        let core: CoreJsonWebKey = serde_json::from_value(jwk.clone()).expect("CoreJsonWebKey");
        let kind = |result: Result<(), SignatureVerificationError>| {
            result.map_err(|error| match error {
                SignatureVerificationError::InvalidKey(_) => "invalid key".to_owned(),
                SignatureVerificationError::CryptoError(_) => "bad signature".to_owned(),
                other => other.to_string(),
            })
        };
        (
            kind(ours.verify_signature(&algorithm, message, signature)),
            kind(core.verify_signature(&algorithm, message, signature)),
        )
    }

    #[test]
    fn ring_answers_as_openidconnect_does() {
        use CoreJwsSigningAlgorithm as Alg;
        let message = MESSAGE;
        let pkcs1 = decoded(PKCS1_SHA256);
        let pss = decoded(PSS_SHA256);
        let mut tampered = pkcs1.clone();
        tampered[10] ^= 1;
        let plain = jwk(serde_json::json!({}));
        let cases = [
            (&plain, Alg::RsaSsaPkcs1V15Sha256, message, &pkcs1, Ok(())),
            (&plain, Alg::RsaSsaPssSha256, message, &pss, Ok(())),
            (
                &plain,
                Alg::RsaSsaPkcs1V15Sha256,
                message,
                &tampered,
                Err("bad signature"),
            ),
            (
                &plain,
                Alg::RsaSsaPkcs1V15Sha256,
                b"header.other",
                &pkcs1,
                Err("bad signature"),
            ),
            (
                &plain,
                Alg::RsaSsaPkcs1V15Sha384,
                message,
                &pkcs1,
                Err("bad signature"),
            ),
            (
                &plain,
                Alg::RsaSsaPssSha256,
                message,
                &pkcs1,
                Err("bad signature"),
            ),
            (
                &jwk(serde_json::json!({ "use": "sig", "alg": "RS256" })),
                Alg::RsaSsaPkcs1V15Sha256,
                message,
                &pkcs1,
                Ok(()),
            ),
            (
                &jwk(serde_json::json!({ "use": "enc" })),
                Alg::RsaSsaPkcs1V15Sha256,
                message,
                &pkcs1,
                Err("invalid key"),
            ),
            (
                &jwk(serde_json::json!({ "alg": "RS384" })),
                Alg::RsaSsaPkcs1V15Sha256,
                message,
                &pkcs1,
                Err("invalid key"),
            ),
            (
                &plain,
                Alg::EcdsaP256Sha256,
                message,
                &pkcs1,
                Err("invalid key"),
            ),
        ];
        for (index, (jwk, algorithm, message, signature, expected)) in cases.into_iter().enumerate()
        {
            let expected = expected.map_err(str::to_owned);
            let (ours, core) = both(jwk, algorithm, message, signature);
            assert_eq!(ours, expected, "case {index}: ProviderKey");
            assert_eq!(core, expected, "case {index}: CoreJsonWebKey");
        }
    }

    #[test]
    fn keys_ring_does_not_take_stay_with_openidconnect() {
        let short = serde_json::json!({
            "kty": "RSA",
            "n": URL_SAFE_NO_PAD.encode([0xc5; 128]),
            "e": "AQAB",
        });
        let key: ProviderKey = serde_json::from_value(short).expect("a 1,024-bit key");
        assert!(key.rsa.is_none());
        let ec = serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        });
        let key: ProviderKey = serde_json::from_value(ec.clone()).expect("an EC key");
        assert!(key.rsa.is_none());
        // It serializes as the JWK it was read from.
        let back = serde_json::to_value(&key).expect("serialize");
        assert_eq!(back["x"], ec["x"]);
        assert_eq!(back["kty"], "EC");
        assert!(key
            .verify_signature(&CoreJwsSigningAlgorithm::EcdsaP256Sha256, b"m", &[0; 64])
            .is_err());
    }
}
