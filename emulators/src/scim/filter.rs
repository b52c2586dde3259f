//! The filter subset AWS's SCIM endpoint accepts: `attr eq "value"` joined by `and`.

use super::ScimError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Lower-cased attribute path, e.g. `username`, `members`, `emails.value`.
    pub attribute: String,
    pub value: String,
    /// The guide's ListUsers/ListGroups: "Filter must be specified as `<filterAttribute> eq "<filterValue>"`".
    pub quoted: bool,
}

pub fn parse(filter: &str) -> Result<Vec<Comparison>, ScimError> {
    let mut comparisons = Vec::new();
    let mut rest = filter.trim();
    loop {
        let (attribute, after) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| invalid(filter))?;
        let after = after.trim_start();
        let (operator, after) = after
            .split_once(char::is_whitespace)
            .ok_or_else(|| invalid(filter))?;
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(ScimError::validation(format!(
                "unsupported filter operator '{operator}': only eq (joined by and) is supported"
            )));
        }
        let value_text = after.trim_start();
        let (value, after) = parse_value(value_text).ok_or_else(|| invalid(filter))?;
        comparisons.push(Comparison {
            attribute: attribute.to_ascii_lowercase(),
            quoted: value_text.starts_with('"'),
            value,
        });
        let after = after.trim();
        if after.is_empty() {
            return Ok(comparisons);
        }
        let (joiner, next) = after
            .split_once(char::is_whitespace)
            .ok_or_else(|| invalid(filter))?;
        if !joiner.eq_ignore_ascii_case("and") {
            return Err(ScimError::validation(format!(
                "unsupported filter combinator '{joiner}': only and is supported"
            )));
        }
        rest = next.trim_start();
    }
}

fn invalid(filter: &str) -> ScimError {
    ScimError::validation(format!("cannot parse filter '{filter}'"))
}

/// A quoted string (with `\"` escapes) or a bare token such as `true`.
fn parse_value(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((index, char)) = chars.next() {
            match char {
                '\\' => value.push(chars.next()?.1),
                '"' => return Some((value, &quoted[index + 1..])),
                other => value.push(other),
            }
        }
        None
    } else {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        (end > 0).then(|| (text[..end].to_owned(), &text[end..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_eq_joined_by_and() {
        let parsed = parse(r#"id eq "g-1" and members eq "u \"2\"""#).unwrap();
        assert_eq!(
            parsed,
            [
                Comparison {
                    attribute: "id".into(),
                    value: "g-1".into(),
                    quoted: true,
                },
                Comparison {
                    attribute: "members".into(),
                    value: "u \"2\"".into(),
                    quoted: true,
                }
            ]
        );
        assert_eq!(
            parse("userName EQ \"alice\"").unwrap()[0].attribute,
            "username"
        );
    }

    #[test]
    fn rejects_other_operators_and_combinators() {
        assert!(parse(r#"userName co "a""#).is_err());
        assert!(parse(r#"userName eq "a" or userName eq "b""#).is_err());
        assert!(parse("userName eq").is_err());
        assert!(!parse("active eq true").unwrap()[0].quoted);
    }
}
