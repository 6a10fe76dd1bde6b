//! Access control: with a token configured, every `/api` and `/rest` call must carry it
//! (`Authorization: Bearer TOKEN` or `?token=TOKEN`; Subsonic clients may instead send it as
//! their password, `p=TOKEN` or `p=enc:HEX`, as `t=md5(TOKEN + s)` with `s`, or as
//! `apiKey=TOKEN`). Without a token (only allowed on a loopback address) everything is open.
//! The page itself (`/`, `/assets/*`) holds no data and is always served. A token has at least
//! [`MIN_TOKEN_CHARS`] characters; [`new_token`] makes a random one.

use std::net::SocketAddr;

use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// The configured token, if any.
#[derive(Clone, Default)]
pub struct Access {
    token: Option<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token itself.
        f.debug_struct("Access")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Why a bind address and token were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error(
        "{0} is not a loopback address: serving other machines needs a token (--token or MUSICREC_TOKEN)"
    )]
    TokenRequired(SocketAddr),
    #[error("the token is empty or has whitespace or control characters")]
    BadToken,
    #[error(
        "the token has {0} characters, fewer than {MIN_TOKEN_CHARS}: make a random one with `musicrec serve --new-token`"
    )]
    ShortToken(usize),
}

/// Shortest accepted token (a guessable token on a network is no protection).
pub const MIN_TOKEN_CHARS: usize = 16;

/// A new random token: 32 hex digits (128 bits) from the operating system's CSPRNG.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

impl Access {
    /// Open access (loopback only).
    pub fn open() -> Self {
        Self { token: None }
    }

    /// Every API call must carry `token`.
    pub fn with_token(token: impl Into<String>) -> Result<Self, AccessError> {
        let token = token.into();
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AccessError::BadToken);
        }
        let chars = token.chars().count();
        if chars < MIN_TOKEN_CHARS {
            return Err(AccessError::ShortToken(chars));
        }
        Ok(Self { token: Some(token) })
    }

    /// The access for serving on `addr`: a non-loopback address needs a token.
    pub fn for_bind(addr: SocketAddr, token: Option<String>) -> Result<Self, AccessError> {
        match token {
            Some(token) => Self::with_token(token),
            None if addr.ip().is_loopback() => Ok(Self::open()),
            None => Err(AccessError::TokenRequired(addr)),
        }
    }

    /// Whether a token is required.
    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    fn matches(&self, candidate: &str) -> bool {
        match &self.token {
            None => true,
            Some(token) => bool::from(token.as_bytes().ct_eq(candidate.as_bytes())),
        }
    }

    /// Whether the JSON API request carries the token (Bearer header or `token` parameter).
    pub fn allows_api(&self, request: &Request) -> bool {
        if self.token.is_none() {
            return true;
        }
        if let Some(bearer) = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_credentials)
            && self.matches(bearer)
        {
            return true;
        }
        query_param(request, "token").is_some_and(|t| self.matches(&t))
    }

    /// Whether a Subsonic request carries the token in any accepted form. `params` are the
    /// request's query (and form) parameters.
    pub fn allows_subsonic(&self, request: &Request, params: &[(String, String)]) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        if self.allows_api(request) {
            return true;
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(key) = get("apiKey")
            && self.matches(key)
        {
            return true;
        }
        if let Some(password) = get("p") {
            let plain = match password.strip_prefix("enc:") {
                Some(hex_text) => hex::decode(hex_text)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok()),
                None => Some(password.to_string()),
            };
            if plain.is_some_and(|p| self.matches(&p)) {
                return true;
            }
        }
        if let (Some(t), Some(salt)) = (get("t"), get("s")) {
            let mut hasher = Md5::new();
            hasher.update(token.as_bytes());
            hasher.update(salt.as_bytes());
            let expected = hex::encode(hasher.finalize());
            if bool::from(expected.as_bytes().ct_eq(t.to_ascii_lowercase().as_bytes())) {
                return true;
            }
        }
        false
    }
}

/// The credentials of an `Authorization: Bearer TOKEN` value; the scheme is case-insensitive
/// (RFC 9110, 11.1).
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// The first value of query parameter `name`.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_short_tokens_are_refused() {
        assert_eq!(bearer_credentials("Bearer abc"), Some("abc"));
        assert_eq!(bearer_credentials("bearer  abc "), Some("abc"));
        assert_eq!(bearer_credentials("BEARER abc"), Some("abc"));
        assert_eq!(bearer_credentials("Basic abc"), None);
        assert_eq!(bearer_credentials("Bearerabc"), None);
        let err = Access::with_token("short").unwrap_err();
        assert_eq!(err, AccessError::ShortToken(5));
        assert!(
            err.to_string().contains("musicrec serve --new-token"),
            "{err}"
        );
        let token = new_token().unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(token, new_token().unwrap());
        assert!(Access::with_token(token).is_ok());
    }
}
