//! Reading the answers of OAuth endpoints: device authorization (RFC 8628 3.2),
//! token responses (RFC 6749 5.1 and 5.2) and the device-flow poll outcomes
//! (RFC 8628 3.5).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::{DeviceAuthorization, PollOutcome, ProviderError, Response, Tokens};

/// RFC 8628's default polling interval, used when the server sends none.
const DEFAULT_INTERVAL: u32 = 5;

/// A number that some servers send as a string ("expires_in": "3600").
///
/// Read through `serde_json::Value` rather than an untagged enum: with serde_json's
/// `arbitrary_precision` (on in this workspace) an untagged enum never sees a number.
struct Seconds(serde_json::Value);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Seconds)
    }
}

impl Seconds {
    fn get(&self) -> Option<u32> {
        let value = match &self.0 {
            serde_json::Value::Number(n) => n.as_u64()?,
            serde_json::Value::String(t) => t.trim().parse().ok()?,
            _ => return None,
        };
        Some(u32::try_from(value).unwrap_or(u32::MAX))
    }
}

/// The fields of a token-endpoint answer, success and error alike.
#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    token_type: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<Seconds>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    interval: Option<Seconds>,
}

#[derive(Deserialize)]
struct DeviceBody {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    // Google and some older servers spell it with "url".
    verification_url: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Option<Seconds>,
    interval: Option<Seconds>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Parses a body as JSON, or says which endpoint sent what.
fn parse<T: DeserializeOwned>(response: &Response, endpoint: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(&response.body).map_err(|e| {
        ProviderError::Protocol(format!(
            "{endpoint} answered {} with a body that is not the expected json ({e}): {}",
            response.status,
            snippet(&response.body)
        ))
    })
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(160) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// `invalid_grant: the code expired` or just `invalid_grant`.
fn oauth_error(error: &str, description: Option<&str>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    }
}

/// The JSON body of a successful (2xx) response from `endpoint` ("userinfo
/// endpoint"); any other status is a protocol error carrying the server's OAuth
/// `error` when it sent one.
pub fn json_body<T: DeserializeOwned>(
    response: &Response,
    endpoint: &str,
) -> Result<T, ProviderError> {
    if !response.is_success() {
        #[derive(Deserialize)]
        struct ErrorBody {
            error: Option<String>,
            error_description: Option<String>,
            message: Option<String>,
        }
        let detail = match serde_json::from_slice::<ErrorBody>(&response.body) {
            Ok(ErrorBody {
                error: Some(error),
                error_description,
                ..
            }) => oauth_error(&error, error_description.as_deref()),
            Ok(ErrorBody {
                message: Some(message),
                ..
            }) => message,
            _ => snippet(&response.body),
        };
        return Err(ProviderError::Protocol(format!(
            "{endpoint} answered {}: {detail}",
            response.status
        )));
    }
    parse(response, endpoint)
}

/// RFC 8628 section 3.2: the device authorization response.
pub fn device_authorization(response: &Response) -> Result<DeviceAuthorization, ProviderError> {
    const ENDPOINT: &str = "device authorization endpoint";
    let body: DeviceBody = parse(response, ENDPOINT)?;
    if let Some(error) = body.error {
        return Err(ProviderError::Protocol(format!(
            "{ENDPOINT} refused: {}",
            oauth_error(&error, body.error_description.as_deref())
        )));
    }
    if !response.is_success() {
        return Err(ProviderError::Protocol(format!(
            "{ENDPOINT} answered {}",
            response.status
        )));
    }
    let missing = |field: &str| ProviderError::Protocol(format!("{ENDPOINT} sent no {field}"));
    Ok(DeviceAuthorization {
        device_code: body.device_code.ok_or_else(|| missing("device_code"))?,
        user_code: body.user_code.ok_or_else(|| missing("user_code"))?,
        verification_uri: body
            .verification_uri
            .or(body.verification_url)
            .ok_or_else(|| missing("verification_uri"))?,
        verification_uri_complete: body.verification_uri_complete,
        expires_in: body
            .expires_in
            .and_then(|s| s.get())
            .ok_or_else(|| missing("expires_in"))?,
        interval: body
            .interval
            .and_then(|s| s.get())
            .filter(|&i| i > 0)
            .unwrap_or(DEFAULT_INTERVAL),
    })
}

fn tokens(body: TokenBody) -> Result<Tokens, ProviderError> {
    let missing = |field: &str| ProviderError::Protocol(format!("token endpoint sent no {field}"));
    Ok(Tokens {
        access_token: body.access_token.ok_or_else(|| missing("access_token"))?,
        token_type: body.token_type.ok_or_else(|| missing("token_type"))?,
        refresh_token: body.refresh_token,
        id_token: body.id_token,
        expires_in: body.expires_in.and_then(|s| s.get()),
        scope: body.scope,
    })
}

/// One device-flow poll (RFC 8628 section 3.5). The `error` field decides, whatever
/// the status: standard servers answer 400, GitHub answers 200. Errors other than
/// the four the RFC defines for polling are protocol errors.
pub fn poll_outcome(response: &Response) -> Result<PollOutcome, ProviderError> {
    let body: TokenBody = parse(response, "token endpoint")?;
    if let Some(error) = body.error.as_deref() {
        return match error {
            "authorization_pending" => Ok(PollOutcome::Pending),
            // 0 tells the host the server stated no interval: it adds 5 s itself.
            "slow_down" => Ok(PollOutcome::SlowDown(
                body.interval.and_then(|s| s.get()).unwrap_or(0),
            )),
            "access_denied" => Ok(PollOutcome::Denied),
            "expired_token" => Ok(PollOutcome::Expired),
            other => Err(ProviderError::Protocol(format!(
                "token endpoint refused the device code: {}",
                oauth_error(other, body.error_description.as_deref())
            ))),
        };
    }
    if !response.is_success() {
        return Err(ProviderError::Protocol(format!(
            "token endpoint answered {} without an error code",
            response.status
        )));
    }
    tokens(body).map(PollOutcome::Granted)
}

/// A token response to a code exchange (or any other grant): tokens, or a protocol
/// error carrying the server's `error` and description.
pub fn token_grant(response: &Response) -> Result<Tokens, ProviderError> {
    let body: TokenBody = parse(response, "token endpoint")?;
    if let Some(error) = body.error.as_deref() {
        return Err(ProviderError::Protocol(format!(
            "token endpoint refused the grant: {}",
            oauth_error(error, body.error_description.as_deref())
        )));
    }
    if !response.is_success() {
        return Err(ProviderError::Protocol(format!(
            "token endpoint answered {} without an error code",
            response.status
        )));
    }
    tokens(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn granted() -> Tokens {
        Tokens {
            access_token: "at".into(),
            token_type: "Bearer".into(),
            refresh_token: None,
            id_token: None,
            expires_in: Some(3600),
            scope: Some("openid".into()),
        }
    }

    #[test]
    fn poll_outcomes_follow_rfc_8628() {
        let check = |status: u16, body: serde_json::Value, expected: Result<PollOutcome, &str>| {
            let got = poll_outcome(&Response::json(status, &body));
            match (got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(got, expected, "{body}"),
                (Err(ProviderError::Protocol(m)), Err(needle)) => {
                    assert!(m.contains(needle), "{m:?} lacks {needle:?}")
                }
                (got, expected) => panic!("{body}: got {got:?}, expected {expected:?}"),
            }
        };
        check(
            400,
            json!({"error": "authorization_pending"}),
            Ok(PollOutcome::Pending),
        );
        // GitHub answers 200 with the error in the body.
        check(
            200,
            json!({"error": "authorization_pending"}),
            Ok(PollOutcome::Pending),
        );
        check(
            400,
            json!({"error": "slow_down"}),
            Ok(PollOutcome::SlowDown(0)),
        );
        check(
            200,
            json!({"error": "slow_down", "interval": 10}),
            Ok(PollOutcome::SlowDown(10)),
        );
        check(
            400,
            json!({"error": "access_denied"}),
            Ok(PollOutcome::Denied),
        );
        check(
            400,
            json!({"error": "expired_token"}),
            Ok(PollOutcome::Expired),
        );
        check(
            400,
            json!({"error": "invalid_client", "error_description": "unknown client"}),
            Err("invalid_client: unknown client"),
        );
        check(
            200,
            json!({"access_token": "at", "token_type": "Bearer", "expires_in": "3600", "scope": "openid"}),
            Ok(PollOutcome::Granted(granted())),
        );
        check(500, json!({}), Err("answered 500 without an error code"));
        check(200, json!({"token_type": "Bearer"}), Err("no access_token"));
    }

    #[test]
    fn non_json_answers_are_quoted() {
        let response = Response {
            status: 502,
            headers: vec![],
            body: b"<html>bad gateway</html>".to_vec(),
        };
        let err = poll_outcome(&response).unwrap_err();
        let ProviderError::Protocol(m) = err else {
            panic!()
        };
        assert!(
            m.contains("answered 502") && m.contains("<html>bad gateway"),
            "{m}"
        );
    }

    #[test]
    fn code_exchange_errors_carry_the_oauth_error() {
        let err = token_grant(&Response::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "grant request is invalid"}),
        ))
        .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Protocol(
                "token endpoint refused the grant: invalid_grant: grant request is invalid".into()
            )
        );
        let ok = token_grant(&Response::json(
            200,
            &json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "scope": "openid"}),
        ));
        assert_eq!(ok.unwrap(), granted());
    }

    #[test]
    fn device_authorization_defaults_the_interval_and_accepts_verification_url() {
        let got = device_authorization(&Response::json(
            200,
            &json!({"device_code": "dc", "user_code": "ABCD-EFGH", "verification_url": "https://x/device", "expires_in": 900}),
        ))
        .unwrap();
        assert_eq!(got.interval, 5);
        assert_eq!(got.verification_uri, "https://x/device");
        assert_eq!(got.verification_uri_complete, None);
        assert!(
            !format!("{got:?}").contains("dc\""),
            "device code is redacted: {got:?}"
        );

        let err = device_authorization(&Response::json(400, &json!({"error": "invalid_scope"})))
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Protocol("device authorization endpoint refused: invalid_scope".into())
        );
        let err =
            device_authorization(&Response::json(200, &json!({"user_code": "u"}))).unwrap_err();
        assert_eq!(
            err,
            ProviderError::Protocol("device authorization endpoint sent no device_code".into())
        );
    }

    #[test]
    fn json_body_reports_status_and_error() {
        #[derive(Debug, Deserialize)]
        struct Info {
            #[expect(dead_code, reason = "only parsing matters here")]
            sub: String,
        }
        let err = json_body::<Info>(
            &Response::json(401, &json!({"error": "invalid_token"})),
            "userinfo endpoint",
        )
        .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Protocol("userinfo endpoint answered 401: invalid_token".into())
        );
        let err = json_body::<Info>(
            &Response::json(403, &json!({"message": "Bad credentials"})),
            "github api",
        )
        .unwrap_err();
        assert_eq!(
            err,
            ProviderError::Protocol("github api answered 403: Bad credentials".into())
        );
        assert!(json_body::<Info>(&Response::json(200, &json!({"sub": "1"})), "x").is_ok());
    }
}
