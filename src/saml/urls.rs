//! Checks for the URLs of the SAML trust. Values are validated but never rewritten: Entra and AWS compare entity
//! IDs and ACS URLs as exact strings, so a "normalised" trailing slash or lowercase host breaks sign-in.

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("it is empty")]
    Empty,
    #[error(
        "it has leading or trailing whitespace, and SAML compares these values as exact strings"
    )]
    SurroundingWhitespace,
    #[error("it is not an absolute URL ({0})")]
    NotAbsoluteUrl(String),
    #[error("it uses {0}://; only https:// is accepted")]
    NotHttps(String),
    #[error("it has no host")]
    NoHost,
    #[error("it contains a fragment (#...), which browsers never send to the service provider")]
    Fragment,
    #[error("it contains a wildcard '*'; use the exact URL from the IAM Identity Center metadata")]
    Wildcard,
}

fn parse_https(value: &str) -> Result<Url, UrlError> {
    if value.is_empty() {
        return Err(UrlError::Empty);
    }
    if value.trim() != value {
        return Err(UrlError::SurroundingWhitespace);
    }
    let url = Url::parse(value).map_err(|error| UrlError::NotAbsoluteUrl(error.to_string()))?;
    if url.scheme() != "https" {
        return Err(UrlError::NotHttps(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    Ok(url)
}

/// An entity ID for this integration must be an https URL. Fragments are allowed: the gallery app's historical
/// default identifier is `https://signin.aws.amazon.com/saml#…`.
pub fn validate_entity_id(entity_id: &str) -> Result<(), UrlError> {
    parse_https(entity_id).map(|_| ())
}

/// An Assertion Consumer Service URL: https, no fragment, no wildcard.
pub fn validate_acs_url(acs_url: &str) -> Result<(), UrlError> {
    let url = parse_https(acs_url)?;
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    if acs_url.contains('*') {
        return Err(UrlError::Wildcard);
    }
    Ok(())
}

/// True for the IAM (single-account) SAML endpoint `https://signin.aws.amazon.com/saml` and its regional and
/// partition variants. Users copy it from older guides, but IAM Identity Center has its own per-instance ACS URL,
/// so this is worth a warning.
pub fn looks_like_single_account_iam_endpoint(value: &str) -> bool {
    let Ok(url) = Url::parse(value.trim()) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let signin_host = [
        "signin.aws.amazon.com",
        "signin.amazonaws-us-gov.com",
        "signin.amazonaws.cn",
    ]
    .iter()
    .any(|base| {
        host == *base
            || host
                .strip_suffix(base)
                .is_some_and(|region| region.ends_with('.'))
    });
    let path = url.path().trim_end_matches('/');
    signin_host && path == "/saml"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_center_urls_are_valid() {
        for url in [
            "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/3f1c2a9e-5b7d-4e8a-9c61-0d2e4f6a8b10",
            "https://eu-central-1.sso.signin.aws/platform/saml/acs/6a7d3c1e-2f4b-4a9d-8e0f-b1c2d3e4f5a6",
        ] {
            assert_eq!(validate_acs_url(url), Ok(()), "{url}");
            assert_eq!(validate_entity_id(url), Ok(()), "{url}");
        }
        assert_eq!(
            validate_entity_id("https://signin.aws.amazon.com/saml#awsssometadata"),
            Ok(())
        );
    }

    #[test]
    fn invalid_urls_are_explained() {
        assert_eq!(validate_acs_url(""), Err(UrlError::Empty));
        assert_eq!(
            validate_acs_url(" https://a.example/acs"),
            Err(UrlError::SurroundingWhitespace)
        );
        assert_eq!(
            validate_acs_url("http://a.example/acs"),
            Err(UrlError::NotHttps("http".into()))
        );
        assert!(matches!(
            validate_acs_url("/platform/saml/acs/1"),
            Err(UrlError::NotAbsoluteUrl(_))
        ));
        assert_eq!(
            validate_acs_url("https://a.example/acs#x"),
            Err(UrlError::Fragment)
        );
        assert_eq!(
            validate_acs_url("https://*.signin.aws.amazon.com/platform/saml/acs/*"),
            Err(UrlError::Wildcard)
        );
        assert_eq!(
            validate_entity_id("urn:amazon:webservices"),
            Err(UrlError::NotHttps("urn".into()))
        );
    }

    #[test]
    fn single_account_iam_endpoint_is_recognised() {
        assert!(looks_like_single_account_iam_endpoint(
            "https://signin.aws.amazon.com/saml"
        ));
        assert!(looks_like_single_account_iam_endpoint(
            "https://signin.aws.amazon.com/saml/"
        ));
        assert!(looks_like_single_account_iam_endpoint(
            "https://us-east-1.signin.aws.amazon.com/saml"
        ));
        assert!(looks_like_single_account_iam_endpoint(
            "https://signin.amazonaws-us-gov.com/saml"
        ));
        assert!(looks_like_single_account_iam_endpoint(
            "https://signin.aws.amazon.com/saml#awsssometadata"
        ));
        assert!(!looks_like_single_account_iam_endpoint(
            "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/3f1c2a9e-5b7d-4e8a-9c61-0d2e4f6a8b10"
        ));
        assert!(!looks_like_single_account_iam_endpoint(
            "https://evilsignin.aws.amazon.com/saml"
        ));
        assert!(!looks_like_single_account_iam_endpoint(
            "https://signin.aws.amazon.com.example/saml"
        ));
        assert!(!looks_like_single_account_iam_endpoint("not a url"));
    }
}
