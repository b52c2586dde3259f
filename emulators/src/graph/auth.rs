//! The Entra login host's client-credentials token endpoint and the bearer check in front of Graph.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::admin::url_decoded_pairs;
use super::error::GraphError;
use super::state::{AppState, new_id};

const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An Entra (AADSTS) OAuth error.
struct StsError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl StsError {
    fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        StsError {
            status,
            error,
            code,
            description: description.into(),
        }
    }
}

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let trace_id = new_id();
        let correlation_id = new_id();
        let timestamp = super::state::now().replace('T', " ");
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code)
        });
        (
            self.status,
            [("content-type", "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response()
    }
}

pub async fn token(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    bytes: Bytes,
) -> Response {
    match issue_token(&state, &tenant, &bytes) {
        Ok(token) => (
            StatusCode::OK,
            [("content-type", "application/json; charset=utf-8")],
            json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs(), "ext_expires_in": TOKEN_LIFETIME.as_secs(), "access_token": token}).to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

fn issue_token(state: &AppState, tenant: &str, bytes: &[u8]) -> Result<String, StsError> {
    let config = &state.config;
    let form: std::collections::HashMap<String, String> =
        url_decoded_pairs(bytes).into_iter().collect();
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    if !tenant.eq_ignore_ascii_case(&config.tenant_id) {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    }
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(StsError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
        None => {
            return Err(StsError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            ));
        }
    }
    let Some(client_id) = field("client_id") else {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    };
    if !client_id.eq_ignore_ascii_case(&config.client_id) {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    }
    let scope = field("scope").unwrap_or_default();
    let accepted_scopes = [
        "https://graph.microsoft.com/.default".to_string(),
        format!("{}/.default", state.base_url),
    ];
    if !accepted_scopes.iter().any(|s| s == scope) {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    match (field("client_secret"), field("client_assertion")) {
        (Some(secret), None) => {
            if secret != config.client_secret {
                return Err(StsError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                    ),
                ));
            }
        }
        (None, Some(assertion)) => {
            if field("client_assertion_type") != Some(ASSERTION_TYPE) {
                return Err(StsError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    50027,
                    format!("The client_assertion_type must be '{ASSERTION_TYPE}'."),
                ));
            }
            verify_assertion(state, tenant, client_id, assertion)?;
        }
        (Some(_), Some(_)) => {
            return Err(StsError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90014,
                "Only one of 'client_secret' and 'client_assertion' may be sent.",
            ));
        }
        (None, None) => {
            return Err(StsError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    }
    Ok(mint(state, tenant))
}

/// Issues a JWT-shaped access token; the emulator only ever checks it against the tokens it issued.
fn mint(state: &AppState, tenant: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "emulator"});
    let claims = json!({
        "aud": "https://graph.microsoft.com", "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME.as_secs() as i64,
        "appid": state.config.client_id, "tid": tenant, "roles": ["Application.ReadWrite.All", "Synchronization.ReadWrite.All"],
        "uti": new_id()
    });
    let signature: Vec<u8> = (0..64).map(|_| fastrand::u8(..)).collect();
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    );
    let mut tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
    tokens.retain(|_, issued| issued.elapsed() < TOKEN_LIFETIME);
    tokens.insert(token.clone(), Instant::now());
    token
}

fn decode_part(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
}

fn verify_assertion(
    state: &AppState,
    tenant: &str,
    client_id: &str,
    assertion: &str,
) -> Result<(), StsError> {
    let invalid = |code: u32, text: &str| {
        StsError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            text.to_string(),
        )
    };
    let Some(pem) = state.config.client_certificate_pem.as_deref() else {
        return Err(invalid(
            700027,
            "Client assertion failed signature validation. No certificate is registered for the application.",
        ));
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.",
        ));
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode_part(header_b64),
        decode_part(claims_b64),
        URL_SAFE_NO_PAD.decode(signature_b64.trim_end_matches('=')),
    ) else {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.",
        ));
    };
    if header["alg"] != "RS256" {
        return Err(invalid(5002738, "Invalid JWT token. 'alg' must be RS256."));
    }
    let (_, parsed_pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|_| invalid(700027, "Client assertion failed signature validation. The registered certificate is not valid PEM."))?;
    let cert = parsed_pem
        .parse_x509()
        .map_err(|_| invalid(700027, "Client assertion failed signature validation. The registered certificate cannot be parsed."))?;
    // The x5t header names the certificate by SHA-1 thumbprint; a different one is an unknown key.
    if let Some(x5t) = header["x5t"].as_str() {
        let expected = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &parsed_pem.contents,
            )
            .as_ref(),
        );
        if x5t.trim_end_matches('=') != expected {
            return Err(invalid(
                700027,
                &format!(
                    "Client assertion failed signature validation. Key was not found. Thumbprint of key used by client: '{x5t}'."
                ),
            ));
        }
    }
    let public_key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        cert.public_key().subject_public_key.data.as_ref(),
    );
    let signed = format!("{header_b64}.{claims_b64}");
    if public_key.verify(signed.as_bytes(), &signature).is_err() {
        return Err(invalid(
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let audiences = [
        format!("{}/{tenant}/oauth2/v2.0/token", state.base_url),
        format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        format!("https://login.microsoftonline.com/{tenant}/v2.0"),
    ];
    if !claims["aud"]
        .as_str()
        .is_some_and(|aud| audiences.iter().any(|a| a.eq_ignore_ascii_case(aud)))
    {
        return Err(invalid(
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'.",
                claims["aud"].as_str().unwrap_or_default()
            ),
        ));
    }
    if claims["iss"] != client_id || claims["sub"] != client_id {
        return Err(invalid(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let skew = 300;
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(now);
    if exp + skew < now || nbf - skew > now {
        return Err(invalid(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// Graph answers 401 InvalidAuthenticationToken unless the request carries a token this emulator issued.
pub async fn require_bearer(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return GraphError::unauthenticated("Access token is empty.").into_response();
    };
    let valid = {
        let tokens = state.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens
            .get(token)
            .is_some_and(|issued| issued.elapsed() < TOKEN_LIFETIME)
    };
    if !valid {
        let message = if token.split('.').count() == 3 {
            "Access token validation failure. Invalid audience."
        } else {
            "IDX14100: JWT is not well formed, there are no dots (.)."
        };
        return GraphError::unauthenticated(message).into_response();
    }
    next.run(request).await
}
