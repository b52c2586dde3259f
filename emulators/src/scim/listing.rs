//! ListUsers/ListGroups as the guide's "Query Parameters" and "Constraints" sections describe them: only the
//! documented filter combinations, `count` 1..=100, and cursor paging (`cursor`/`nextCursor`, the scheme RFC 9865
//! later standardised).

use std::collections::{BTreeSet, HashMap};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::filter::{self, Comparison};
use super::schemas::{LIST_RESPONSE, MAX_RESULTS};
use super::{ScimError, scim_response};

/// ListUsers: "Supported filter combinations: (userName), (externalId), (groups.value), (id and manager),
/// (manager and id)", plus `id` alone ("valid, [but] should be avoided").
pub const USER_FILTERS: &[&[&str]] = &[
    &["username"],
    &["externalid"],
    &["groups.value"],
    &["id"],
    &["id", "manager"],
];

/// ListGroups: "(displayName), (externalId), (members.value), (id and member), and (member and id)", plus `id`
/// alone. The member attribute of the pair is `members` (RFC 7643 §4.2), which RFC 7644 §3.4.2.2 lets a filter
/// name with or without its `value` sub-attribute.
pub const GROUP_FILTERS: &[&[&str]] = &[
    &["displayname"],
    &["externalid"],
    &["members.value"],
    &["id"],
    &["id", "members"],
    &["id", "members.value"],
];

/// The comparisons of the `filter` query parameter, refused unless they form one of `supported`.
pub fn supported_comparisons(
    query: &HashMap<String, String>,
    supported: &[&[&str]],
) -> Result<Vec<Comparison>, ScimError> {
    let Some(text) = query.get("filter") else {
        return Ok(Vec::new());
    };
    let comparisons = filter::parse(text)?;
    if let Some(bare) = comparisons.iter().find(|comparison| !comparison.quoted) {
        return Err(ScimError::validation(format!(
            "the filter value for {} must be a quoted string",
            bare.attribute
        )));
    }
    let attributes: BTreeSet<&str> = comparisons
        .iter()
        .map(|comparison| comparison.attribute.as_str())
        .collect();
    let known = supported.iter().any(|combination| {
        combination.len() == comparisons.len()
            && combination.iter().copied().collect::<BTreeSet<_>>() == attributes
    });
    if !known {
        return Err(ScimError::validation(format!(
            "unsupported filter '{text}': the supported filters are {}",
            supported
                .iter()
                .map(|combination| format!("({})", combination.join(" and ")))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(comparisons)
}

/// Cursors are opaque to clients; this one names the offset of the next page.
const CURSOR_PREFIX: &str = "idbridge-scim-offset:";

fn is_cursor_text(text: &str) -> bool {
    // The guide's pattern for `cursor`: [-a-zA-Z0-9+=/:_]*
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-+=/:_".contains(c))
}

fn cursor_offset(cursor: &str) -> Result<usize, ScimError> {
    if !is_cursor_text(cursor) {
        return Err(ScimError::validation(format!(
            "cursor '{cursor}' does not match [-a-zA-Z0-9+=/:_]*"
        )));
    }
    if cursor.is_empty() {
        return Ok(0);
    }
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|offset| offset.parse().ok())
        .ok_or_else(|| {
            ScimError::validation(format!("cursor '{cursor}' was not issued by this endpoint"))
        })
}

/// One page of `resources`. Without `cursor` the answer is non-paginated (`totalResults`, `startIndex`,
/// `itemsPerPage`; at most `count` resources; `startIndex` is "not supported" and ignored). With `cursor` (empty on
/// the first request) it has `itemsPerPage` and, while more remain, `nextCursor`.
pub fn list_response(
    resources: Vec<Value>,
    query: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let count = match query.get("count") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|count| (1..=MAX_RESULTS).contains(count))
            .ok_or_else(|| {
                ScimError::validation(format!(
                    "count must be between 1 and {MAX_RESULTS}, got '{text}'"
                ))
            })?,
        None => MAX_RESULTS,
    };
    let total = resources.len();
    let body = match query.get("cursor") {
        None => {
            let page: Vec<Value> = resources.into_iter().take(count).collect();
            json!({
                "schemas": [LIST_RESPONSE],
                "totalResults": total,
                "itemsPerPage": page.len(),
                "startIndex": 1,
                "Resources": page,
            })
        }
        Some(cursor) => {
            let offset = cursor_offset(cursor)?;
            let page: Vec<Value> = resources.into_iter().skip(offset).take(count).collect();
            let next = offset + page.len();
            let mut body = json!({
                "schemas": [LIST_RESPONSE],
                "itemsPerPage": page.len(),
                "Resources": page,
            });
            if next < total {
                body["nextCursor"] = json!(format!("{CURSOR_PREFIX}{next}"));
            }
            body
        }
    };
    Ok(scim_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn only_documented_filter_combinations_pass() {
        let filter = |text: &str| query(&[("filter", text)]);
        assert!(supported_comparisons(&filter(r#"userName eq "a""#), USER_FILTERS).is_ok());
        assert!(
            supported_comparisons(&filter(r#"manager eq "m" and id eq "i""#), USER_FILTERS).is_ok()
        );
        for refused in [
            r#"displayName eq "a""#,
            r#"emails.value eq "a@x""#,
            r#"userName eq "a" and externalId eq "b""#,
            "userName eq a",
        ] {
            assert!(
                supported_comparisons(&filter(refused), USER_FILTERS).is_err(),
                "{refused}"
            );
        }
        assert!(
            supported_comparisons(&filter(r#"members eq "u""#), GROUP_FILTERS).is_err(),
            "members alone is not a documented combination"
        );
    }

    #[test]
    fn cursors_are_checked() {
        assert_eq!(cursor_offset("").unwrap(), 0);
        assert_eq!(cursor_offset(&format!("{CURSOR_PREFIX}7")).unwrap(), 7);
        assert!(cursor_offset("abc def").is_err());
        assert!(cursor_offset("forged").is_err());
    }
}
