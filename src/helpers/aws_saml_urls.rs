//! Where Entra ID may send SAML assertions for AWS: only to AWS's own sign-in hosts. An edited metadata file or a
//! mistyped URL must not point the trust (and the users' assertions) at another host, so the entity ID and the
//! ACS URL are held to the host names AWS documents for IAM Identity Center and the IAM SAML endpoint:
//!
//! - `signin.aws.amazon.com` and `<region>.signin.aws.amazon.com` (commercial partition; "How to use regional
//!   SAML endpoints for failover", AWS Security Blog, and the "AWS Sign-In endpoints" table of the AWS General
//!   Reference; IAM Identity Center's own URLs are `https://<region>.signin.aws.amazon.com/platform/saml/...`);
//! - `<region>.sso.signin.aws` (IAM Identity Center's sign-in domain outside amazon.com);
//! - `signin.amazonaws-us-gov.com` and `<region>.signin.amazonaws-us-gov.com` (AWS GovCloud (US));
//! - `signin.amazonaws.cn` and `<region>.signin.amazonaws.cn` (China Regions).
//!
//! Besides the host: https only, no user name or password before the host (`https://a.signin.aws.amazon.com@evil/`
//! is a URL whose host is `evil`), and no explicit port (AWS's endpoints are served on 443 only).

use url::{Host, Url};

/// Sign-in domains AWS serves SAML endpoints on, with or without a Region label in front.
const SIGNIN_DOMAINS: &[&str] = &[
    "signin.aws.amazon.com",
    "signin.amazonaws-us-gov.com",
    "signin.amazonaws.cn",
];

/// Sign-in domains that always carry a Region label in front.
const REGIONAL_ONLY_DOMAINS: &[&str] = &["sso.signin.aws"];

/// Why `value`, given for `attribute`, is not an AWS sign-in URL: a sentence naming the attribute and the host,
/// and what to use instead. `None` when the URL is acceptable. Parse errors are reported by the generic URL
/// checks ([`crate::saml::validate_acs_url`]); this only judges URLs that parse.
pub fn foreign_aws_signin_url(attribute: &str, value: &str) -> Option<String> {
    let url = Url::parse(value).ok()?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let problem = if url.scheme() != "https" {
        format!("uses {}://", url.scheme())
    } else if !url.username().is_empty() || url.password().is_some() {
        "has a user name or password before the host (`user@host`), which makes the real host the part after `@`"
            .to_string()
    } else if url.port().is_some() {
        format!("names a port ({})", url.port().unwrap_or_default())
    } else if !matches!(url.host(), Some(Host::Domain(_))) || !is_aws_signin_host(&host) {
        "is not an AWS sign-in host".to_string()
    } else {
        return None;
    };
    Some(format!(
        "`{attribute}` points at host {host:?}, which {problem}. Entra ID would send users' SAML assertions there. \
         Use the URLs of your IAM Identity Center instance (https://<region>.signin.aws.amazon.com/platform/saml/..., \
         or the GovCloud/China equivalents on signin.amazonaws-us-gov.com / signin.amazonaws.cn), from its SAML \
         metadata file, unchanged."
    ))
}

fn is_aws_signin_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let regional = |domain: &str| {
        host.strip_suffix(domain)
            .and_then(|rest| rest.strip_suffix('.'))
            .is_some_and(is_region_label)
    };
    SIGNIN_DOMAINS
        .iter()
        .any(|domain| host == *domain || regional(domain))
        || REGIONAL_ONLY_DOMAINS.iter().any(|domain| regional(domain))
}

/// One DNS label shaped like an AWS Region code (`us-east-1`, `us-gov-west-1`, `cn-north-1`): letters, digits and
/// inner hyphens, no dots (so `evil.example.eu-west-1` cannot pass as a Region).
fn is_region_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && label.chars().any(|c| c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_signin_urls_of_every_partition_pass() {
        for url in [
            "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f",
            "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890",
            "https://signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com/saml#2",
            "https://eu-central-1.sso.signin.aws/platform/saml/acs/x",
            "https://us-gov-west-1.signin.amazonaws-us-gov.com/platform/saml/acs/x",
            "https://signin.amazonaws-us-gov.com/saml",
            "https://cn-north-1.signin.amazonaws.cn/platform/saml/acs/x",
            "https://signin.amazonaws.cn/saml",
            "https://EU-WEST-1.Signin.AWS.Amazon.com/platform/saml/acs/x",
        ] {
            assert_eq!(foreign_aws_signin_url("acs_url", url), None, "{url}");
        }
    }

    #[test]
    fn userinfo_ports_other_schemes_and_foreign_hosts_are_named() {
        for (url, host, problem) in [
            (
                "https://us-east-1.signin.aws.amazon.com@evil.example.com/platform/saml/acs/x",
                "evil.example.com",
                "user name or password",
            ),
            (
                "https://user:pw@eu-west-1.signin.aws.amazon.com/platform/saml/acs/x",
                "eu-west-1.signin.aws.amazon.com",
                "user name or password",
            ),
            (
                "https://eu-west-1.signin.aws.amazon.com:8443/platform/saml/acs/x",
                "eu-west-1.signin.aws.amazon.com",
                "port (8443)",
            ),
            (
                "http://eu-west-1.signin.aws.amazon.com/platform/saml/acs/x",
                "eu-west-1.signin.aws.amazon.com",
                "http://",
            ),
            (
                "https://evil.example.com/saml",
                "evil.example.com",
                "not an AWS sign-in host",
            ),
            (
                "https://signin.aws.amazon.com.evil.example/saml",
                "signin.aws.amazon.com.evil.example",
                "not an AWS sign-in host",
            ),
            (
                "https://evil.example.eu-west-1.signin.aws.amazon.com/saml",
                "evil.example.eu-west-1.signin.aws.amazon.com",
                "not an AWS sign-in host",
            ),
            (
                "https://sso.signin.aws/platform/saml/acs/x",
                "sso.signin.aws",
                "not an AWS sign-in host",
            ),
            (
                "https://evilsignin.aws.amazon.com/saml",
                "evilsignin.aws.amazon.com",
                "not an AWS",
            ),
            (
                "https://52.94.0.1/saml",
                "52.94.0.1",
                "not an AWS sign-in host",
            ),
        ] {
            let message =
                foreign_aws_signin_url("entity_id", url).unwrap_or_else(|| panic!("{url} passed"));
            assert!(
                message.starts_with("`entity_id` points at host"),
                "{message}"
            );
            assert!(message.contains(&format!("{host:?}")), "{url}: {message}");
            assert!(message.contains(problem), "{url}: {message}");
        }
    }

    #[test]
    fn unparsable_values_are_left_to_the_url_checks() {
        assert_eq!(foreign_aws_signin_url("acs_url", "not a url"), None);
    }
}
