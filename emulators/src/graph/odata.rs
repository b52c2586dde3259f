//! The OData query options clients send: `$filter` (eq, startswith, and, parentheses), `$select`, `$top` and
//! server-driven paging with `$skiptoken` / `@odata.nextLink`.

use serde_json::{Map, Value, json};

use super::csdl::Model;
use super::error::GraphError;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Eq(Vec<String>, Value),
    StartsWith(Vec<String>, String),
    And(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Literal(Value),
    Open,
    Close,
    Comma,
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            text.push(*ch);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Literal(Value::String(text)));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let literal = match word.as_str() {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "null" => Some(Value::Null),
                    _ if word.parse::<i64>().is_ok() => {
                        Some(json!(word.parse::<i64>().unwrap_or_default()))
                    }
                    // Unquoted GUIDs are how clients compare Edm.Guid properties (appRoleId eq 0000-...).
                    _ if uuid::Uuid::parse_str(&word).is_ok() => Some(Value::String(word.clone())),
                    _ => None,
                };
                tokens.push(literal.map(Token::Literal).unwrap_or(Token::Ident(word)));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn expr(&mut self) -> Result<Filter, String> {
        let mut left = self.term()?;
        while let Some(Token::Ident(word)) = self.peek() {
            match word.as_str() {
                "and" => {
                    self.pos += 1;
                    left = Filter::And(Box::new(left), Box::new(self.term()?));
                }
                other => return Err(format!("unsupported operator '{other}'")),
            }
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expr()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Token::Ident(name)) if name.eq_ignore_ascii_case("startswith") => {
                let (
                    Some(Token::Open),
                    Some(Token::Ident(prop)),
                    Some(Token::Comma),
                    Some(Token::Literal(Value::String(prefix))),
                    Some(Token::Close),
                ) = (
                    self.next(),
                    self.next(),
                    self.next(),
                    self.next(),
                    self.next(),
                )
                else {
                    return Err("expected startswith(property,'prefix')".into());
                };
                Ok(Filter::StartsWith(split_path(&prop), prefix))
            }
            Some(Token::Ident(prop)) => match (self.next(), self.next()) {
                (Some(Token::Ident(op)), Some(Token::Literal(value))) if op == "eq" => {
                    Ok(Filter::Eq(split_path(&prop), value))
                }
                (Some(Token::Ident(op)), _) => Err(format!("unsupported operator '{op}'")),
                _ => Err(format!("expected an operator after '{prop}'")),
            },
            other => Err(format!("unexpected token {other:?}")),
        }
    }
}

fn split_path(prop: &str) -> Vec<String> {
    prop.split('/').map(str::to_string).collect()
}

pub fn parse_filter(input: &str) -> Result<Filter, String> {
    let mut parser = Parser {
        tokens: tokenize(input)?,
        pos: 0,
    };
    let filter = parser.expr()?;
    if parser.pos != parser.tokens.len() {
        return Err("unexpected trailing tokens".into());
    }
    Ok(filter)
}

impl Filter {
    fn properties(&self) -> Vec<&str> {
        match self {
            Filter::Eq(path, _) | Filter::StartsWith(path, _) => vec![path[0].as_str()],
            Filter::And(a, b) => [a.properties(), b.properties()].concat(),
        }
    }

    pub fn matches(&self, object: &Value) -> bool {
        let lookup = |path: &[String]| path.iter().try_fold(object, |v, segment| v.get(segment));
        match self {
            Filter::Eq(path, expected) => match (lookup(path), expected) {
                // Directory string comparisons are case-insensitive.
                (Some(Value::String(actual)), Value::String(expected)) => {
                    actual.eq_ignore_ascii_case(expected)
                }
                (None | Some(Value::Null), Value::Null) => true,
                (Some(actual), expected) => actual == expected,
                (None, _) => false,
            },
            Filter::StartsWith(path, prefix) => lookup(path)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase())),
            Filter::And(a, b) => a.matches(object) && b.matches(object),
        }
    }
}

/// The query options of one request.
#[derive(Debug, Default)]
pub struct Query {
    pub filter: Option<Filter>,
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub raw: Vec<(String, String)>,
}

impl Query {
    pub fn parse(
        raw_query: Option<&str>,
        model: &Model,
        type_name: &str,
    ) -> Result<Query, GraphError> {
        let raw: Vec<(String, String)> = raw_query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let mut query = Query::default();
        for (key, value) in &raw {
            match key.trim_start_matches('$').to_ascii_lowercase().as_str() {
                "filter" => {
                    let filter = parse_filter(value).map_err(|e| {
                        GraphError::new(
                            axum::http::StatusCode::BAD_REQUEST,
                            "BadRequest",
                            format!("Invalid filter clause: {e}"),
                        )
                    })?;
                    for prop in filter.properties() {
                        if model.property(type_name, prop).is_none() {
                            return Err(GraphError::bad_request(format!(
                                "Invalid filter clause: Could not find a property named '{prop}' on type '{type_name}'."
                            )));
                        }
                    }
                    query.filter = Some(filter);
                }
                "select" => {
                    let props: Vec<String> = value
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect();
                    if let Some(unknown) = props
                        .iter()
                        .find(|p| model.property(type_name, p).is_none())
                    {
                        return Err(GraphError::bad_request(format!(
                            "Parsing OData Select and Expand failed: Could not find a property named '{unknown}' on type '{type_name}'."
                        )));
                    }
                    query.select = Some(props);
                }
                "top" => {
                    let top = value.parse::<usize>().ok().filter(|t| (1..=999).contains(t)).ok_or_else(|| {
                        GraphError::bad_request(format!("Invalid page size specified: '{value}'. Must be between 1 and 999 inclusive."))
                    })?;
                    query.top = Some(top);
                }
                "skiptoken" => {
                    query.skip = value
                        .strip_prefix("emu-")
                        .and_then(|n| usize::from_str_radix(n, 16).ok())
                        .ok_or_else(|| GraphError::bad_request("Invalid $skiptoken."))?;
                }
                _ => {}
            }
        }
        query.raw = raw;
        Ok(query)
    }

    pub fn project(&self, object: &Value) -> Value {
        match (&self.select, object.as_object()) {
            (Some(props), Some(map)) => Value::Object(
                props
                    .iter()
                    .filter_map(|p| map.get(p).map(|v| (p.clone(), v.clone())))
                    .collect(),
            ),
            _ => object.clone(),
        }
    }

    /// `@odata.context` for a collection or entity, `$select` included as Graph writes it.
    pub fn context(&self, base_url: &str, set_path: &str, single: bool) -> String {
        let selected = self
            .select
            .as_ref()
            .map(|s| format!("({})", s.join(",")))
            .unwrap_or_default();
        let entity = if single { "/$entity" } else { "" };
        format!("{base_url}/v1.0/$metadata#{set_path}{selected}{entity}")
    }

    /// Filters, pages and projects `items` into a Graph collection response.
    pub fn page(
        &self,
        items: Vec<Value>,
        page_size: usize,
        base_url: &str,
        request_path: &str,
        set_path: &str,
    ) -> Value {
        let matching: Vec<Value> = items
            .into_iter()
            .filter(|o| self.filter.as_ref().is_none_or(|f| f.matches(o)))
            .collect();
        // The emulator's page size caps $top so that clients asking for 999 still meet server-driven paging.
        let size = self.top.map_or(page_size, |top| top.min(page_size));
        let page: Vec<Value> = matching
            .iter()
            .skip(self.skip)
            .take(size)
            .map(|o| self.project(o))
            .collect();
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::String(self.context(base_url, set_path, false)),
        );
        if self.skip + size < matching.len() {
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in self
                .raw
                .iter()
                .filter(|(k, _)| k.trim_start_matches('$') != "skiptoken")
            {
                next.append_pair(k, v);
            }
            next.append_pair("$skiptoken", &format!("emu-{:x}", self.skip + size));
            body.insert(
                "@odata.nextLink".into(),
                Value::String(format!("{base_url}{request_path}?{}", next.finish())),
            );
        }
        body.insert("value".into(), Value::Array(page));
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_evaluates_the_filters_clients_send() {
        let f =
            parse_filter("applicationTemplateId eq '21ed01d2' and displayName eq 'O''Brien app'")
                .unwrap();
        assert!(
            f.matches(&json!({"applicationTemplateId": "21ed01d2", "displayName": "o'brien APP"}))
        );
        assert!(!f.matches(&json!({"applicationTemplateId": "x", "displayName": "O'Brien app"})));
        let g = parse_filter("(appRoleId eq 8774f594-1d59-4279-b9d9-59ef09a23530)").unwrap();
        assert!(g.matches(&json!({"appRoleId": "8774f594-1d59-4279-b9d9-59ef09a23530"})));
        let s = parse_filter("startswith(displayName,'AWS')").unwrap();
        assert!(s.matches(&json!({"displayName": "aws prod"})));
        let nested = parse_filter("web/homePageUrl eq 'x'").unwrap();
        assert!(nested.matches(&json!({"web": {"homePageUrl": "x"}})));
    }

    #[test]
    fn rejects_unsupported_syntax() {
        assert!(parse_filter("displayName ne 'x'").is_err());
        assert!(parse_filter("displayName eq 'x' or id eq 'y'").is_err());
        assert!(parse_filter("displayName eq 'x").is_err());
    }
}
