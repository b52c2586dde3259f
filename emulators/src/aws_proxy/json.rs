//! JSON 1.1 helpers: AWS error shape, permission set ARN rewriting and null stripping.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub const JSON_11: &str = "application/x-amz-json-1.1";

/// moto's permission set ARN prefix; real AWS uses [`AWS_PS_PREFIX`] with the same `ssoins-…/ps-…` tail.
const MOTO_PS_PREFIX: &str = "arn:aws:sso:::instance/";
const AWS_PS_PREFIX: &str = "arn:aws:sso:::permissionSet/";

/// An error as AWS JSON 1.1 services answer it: status 400 (or 500), `__type`, `Message` and the
/// `x-amzn-ErrorType` header that the SDKs read first.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub status: StatusCode,
    pub error_type: String,
    pub message: String,
    /// Extra members some errors carry (e.g. `Reason`, `ResourceType`).
    pub extra: Map<String, Value>,
}

impl AwsError {
    pub fn new(status: StatusCode, error_type: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            error_type: error_type.to_owned(),
            message: message.into(),
            extra: Map::new(),
        }
    }
    pub fn validation(message: impl Into<String>) -> AwsError {
        AwsError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }
    pub fn not_found(message: impl Into<String>) -> AwsError {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            message,
        )
    }
    pub fn conflict(message: impl Into<String>) -> AwsError {
        AwsError::new(StatusCode::BAD_REQUEST, "ConflictException", message)
    }
    pub fn throttling(message: impl Into<String>) -> AwsError {
        AwsError::new(StatusCode::BAD_REQUEST, "ThrottlingException", message)
    }
    pub fn internal(message: impl Into<String>) -> AwsError {
        AwsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            message,
        )
    }

    /// Reads an error answered by moto (JSON with `__type`, or moto's HTML 500 page).
    pub fn from_moto(status: StatusCode, body: &[u8]) -> AwsError {
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
            return AwsError::internal(format!(
                "moto answered HTTP {status} without a JSON error (operation not implemented by moto)"
            ));
        };
        let error_type = object
            .remove("__type")
            .and_then(|value| {
                value
                    .as_str()
                    .map(|text| text.rsplit('#').next().unwrap_or(text).to_owned())
            })
            .unwrap_or_else(|| "InternalServerException".to_owned());
        let message = object
            .remove("Message")
            .or_else(|| object.remove("message"))
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        object.remove("RequestId");
        object.remove("status");
        let mut extra = Value::Object(object);
        strip_nulls(&mut extra);
        let status = if status.is_success() {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        AwsError {
            status,
            error_type,
            message,
            extra: extra.as_object().cloned().unwrap_or_default(),
        }
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("__type".into(), json!(self.error_type));
        body.insert("Message".into(), json!(self.message));
        let mut response = (self.status, Value::Object(body).to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_11));
        if let Ok(value) = HeaderValue::from_str(&self.error_type) {
            headers.insert("x-amzn-ErrorType", value);
        }
        response
    }
}

/// A success answer with the JSON 1.1 content type (moto labels its bodies `text/html`).
pub fn ok(mut body: Value) -> Response {
    strip_nulls(&mut body);
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    response
}

/// AWS omits absent members; moto writes them as `null`, which some strict parsers reject.
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.retain(|_, member| !member.is_null());
            object.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Real-shape permission set ARNs in a request become moto's shape.
pub fn to_moto_arns(value: &mut Value) {
    map_strings(value, &|text| {
        text.strip_prefix(AWS_PS_PREFIX)
            .map(|tail| format!("{MOTO_PS_PREFIX}{tail}"))
    });
}

/// moto's permission set ARNs in a response become the real `arn:aws:sso:::permissionSet/ssoins-…/ps-…` shape.
/// Instance ARNs (`…:instance/ssoins-…` with no `/ps-` part) stay as they are.
pub fn to_aws_arns(value: &mut Value) {
    map_strings(value, &|text| moto_to_aws_arn(text));
}

pub fn moto_to_aws_arn(text: &str) -> Option<String> {
    let tail = text.strip_prefix(MOTO_PS_PREFIX)?;
    let (instance, permission_set) = tail.split_once('/')?;
    (instance.starts_with("ssoins-") && permission_set.starts_with("ps-"))
        .then(|| format!("{AWS_PS_PREFIX}{tail}"))
}

fn map_strings(value: &mut Value, transform: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(replacement) = transform(text) {
                *text = replacement;
            }
        }
        Value::Object(object) => object
            .values_mut()
            .for_each(|member| map_strings(member, transform)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| map_strings(item, transform)),
        _ => {}
    }
}

/// A required string member, or the ValidationException AWS answers when it is missing.
pub fn required_str<'a>(body: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    body.get(member)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| AwsError::validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must not be null")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_set_arns_round_trip_and_instance_arns_stay() {
        let mut body = json!({
            "InstanceArn": "arn:aws:sso:::instance/ssoins-abc",
            "PermissionSets": ["arn:aws:sso:::instance/ssoins-abc/ps-123"],
        });
        to_aws_arns(&mut body);
        assert_eq!(body["InstanceArn"], "arn:aws:sso:::instance/ssoins-abc");
        assert_eq!(
            body["PermissionSets"][0],
            "arn:aws:sso:::permissionSet/ssoins-abc/ps-123"
        );
        to_moto_arns(&mut body);
        assert_eq!(
            body["PermissionSets"][0],
            "arn:aws:sso:::instance/ssoins-abc/ps-123"
        );
    }

    #[test]
    fn nulls_are_removed_at_every_depth() {
        let mut body = json!({"A": null, "B": [{"C": null, "D": 1}], "E": {"F": null}});
        strip_nulls(&mut body);
        assert_eq!(body, json!({"B": [{"D": 1}], "E": {}}));
    }

    #[test]
    fn moto_html_500_becomes_internal_server_exception() {
        let error = AwsError::from_moto(StatusCode::INTERNAL_SERVER_ERROR, b"<!doctype html>");
        assert_eq!(error.error_type, "InternalServerException");
        let error = AwsError::from_moto(
            StatusCode::BAD_REQUEST,
            br#"{"__type":"ConflictException","Message":"Duplicate","Reason":"UNIQUENESS_CONSTRAINT_VIOLATION","ResourceType":null,"RequestId":"x"}"#,
        );
        assert_eq!(error.error_type, "ConflictException");
        assert_eq!(
            error.extra.get("Reason"),
            Some(&json!("UNIQUENESS_CONSTRAINT_VIOLATION"))
        );
        assert!(!error.extra.contains_key("ResourceType"));
        assert!(!error.extra.contains_key("RequestId"));
    }
}
