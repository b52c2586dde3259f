//! `attribute_mapping` blocks and `removed_targets` of `idbridge_scim_provisioning`: the User attribute mappings
//! of the job's schema this configuration manages, the plan-time check of targets against what AWS's SCIM
//! endpoint supports, and the refresh of the managed targets from the schema (drift).

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::{Attr, AttributePath, Diagnostic, Diagnostics, Set};
use crate::services::attribute_mappings::{AttributeMapping, MappingSource};

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct AttributeMappingModel {
        pub target: Attr<String>,
        pub source: Attr<String>,
        pub expression: Attr<String>,
    }
}

pub(super) const ENTERPRISE_PREFIX: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";

/// Single-valued user attributes AWS's SCIM endpoint supports (IAM Identity Center SCIM implementation developer
/// guide, "Limitations from SCIM specification": user attributes, single valued), plus `externalId`.
const SINGLE_VALUED: [&str; 17] = [
    "userName",
    "name.formatted",
    "name.familyName",
    "name.givenName",
    "name.middleName",
    "name.honorificPrefix",
    "name.honorificSuffix",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "externalId",
];
/// The enterprise extension attributes the same guide lists as supported.
const ENTERPRISE: [&str; 6] = [
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];
/// Multi-valued attributes AWS takes one value of, with their supported sub-attributes.
const MULTI_VALUED: [(&str, &[&str]); 3] = [
    ("emails", &["value"]),
    ("phoneNumbers", &["value"]),
    (
        "addresses",
        &[
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
            "formatted",
        ],
    ),
];

/// `emails[type eq "work"].value` → (`emails`, `work`, `value`).
fn multi_valued_parts(target: &str) -> Option<(&str, &str, &str)> {
    let (attribute, rest) = target.split_once("[type eq \"")?;
    let (kind, rest) = rest.split_once("\"]")?;
    let sub = rest.strip_prefix('.')?;
    Some((attribute, kind, sub))
}

/// Why AWS would refuse `target`, or `None` when it takes it.
pub(super) fn unsupported_target(target: &str) -> Option<String> {
    if SINGLE_VALUED.contains(&target) {
        return None;
    }
    if let Some(attribute) = target.strip_prefix(ENTERPRISE_PREFIX) {
        return (!ENTERPRISE.contains(&attribute)).then(|| {
            format!(
                "AWS's SCIM endpoint supports only these enterprise extension attributes: {}",
                ENTERPRISE.join(", ")
            )
        });
    }
    if let Some((attribute, _, sub)) = multi_valued_parts(target)
        && let Some((_, subs)) = MULTI_VALUED.iter().find(|(name, _)| *name == attribute)
    {
        return (!subs.contains(&sub)).then(|| {
            format!(
                "AWS's SCIM endpoint supports {attribute} sub-attributes {}",
                subs.join(", ")
            )
        });
    }
    Some(format!(
        "AWS's SCIM endpoint does not support it. Supported: {}; one of emails/phoneNumbers/addresses as \
         `emails[type eq \"work\"].value`; the enterprise extension as `{ENTERPRISE_PREFIX}<{}>`",
        SINGLE_VALUED.join(", "),
        ENTERPRISE.join("|")
    ))
}

/// Plan-time checks: supported targets, exactly one of `source`/`expression`, targets unique, one value per
/// multi-valued attribute (AWS: "does not support multi-valued attributes"), nothing both mapped and removed.
pub(super) fn validate_mappings(
    mappings: &[AttributeMappingModel],
    removed: &Attr<BTreeSet<String>>,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let at = AttributePath::new("attribute_mapping");
    let mut targets = BTreeSet::new();
    let mut multi_valued: BTreeMap<&str, &str> = BTreeMap::new();
    for mapping in mappings {
        let Some(target) = mapping.target.as_str() else {
            continue;
        };
        if let Some(reason) = unsupported_target(target) {
            diagnostics.push(
                Diagnostic::error(
                    "Unsupported attribute mapping target",
                    format!("{target:?} cannot be provisioned to IAM Identity Center: {reason}."),
                )
                .at(at.clone()),
            );
        }
        if !targets.insert(target) {
            diagnostics.push(
                Diagnostic::error(
                    "Duplicate attribute mapping target",
                    format!(
                        "{target:?} is mapped twice; keep one `attribute_mapping` block per target."
                    ),
                )
                .at(at.clone()),
            );
        }
        if let Some((attribute, kind, _)) = multi_valued_parts(target)
            && let Some(other) = multi_valued.insert(attribute, kind)
            && other != kind
        {
            diagnostics.push(
                Diagnostic::error(
                    "Unsupported attribute mapping target",
                    format!(
                        "{attribute} is mapped with types {other:?} and {kind:?}; IAM Identity Center takes one \
                         value of {attribute} per user. Map one type and list the others in `removed_targets`."
                    ),
                )
                .at(at.clone()),
            );
        }
        let given = [&mapping.source, &mapping.expression]
            .iter()
            .filter(|a| !a.is_null())
            .count();
        if given != 1 {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid attribute mapping",
                    format!(
                        "The mapping of {target:?} needs exactly one of `source` (an Entra user attribute, e.g. \
                         `department`) and `expression` (e.g. `Join(\" \", [givenName], [surname])`)."
                    ),
                )
                .at(at.clone()),
            );
        }
    }
    if let Some(removed) = removed.known()
        && let Some(both) = removed.iter().find(|r| targets.contains(r.as_str()))
    {
        diagnostics.push(
            Diagnostic::error(
                "Target both mapped and removed",
                format!("{both:?} is in `removed_targets` and has an `attribute_mapping` block; keep one."),
            )
            .at(AttributePath::new("removed_targets")),
        );
    }
    diagnostics
}

/// The mappings to write; only called with a known plan.
pub(super) fn desired_mappings(mappings: &[AttributeMappingModel]) -> Vec<AttributeMapping> {
    mappings
        .iter()
        .filter_map(|m| {
            let source = match (m.source.as_str(), m.expression.as_str()) {
                (Some(source), _) => MappingSource::Attribute(source.to_string()),
                (None, Some(expression)) => MappingSource::Expression(expression.to_string()),
                (None, None) => return None,
            };
            Some(AttributeMapping {
                target: m.target.as_str()?.to_string(),
                source,
            })
        })
        .collect()
}

pub(super) fn removed(targets: &Attr<BTreeSet<String>>) -> Vec<String> {
    targets.known().into_iter().flatten().cloned().collect()
}

/// The managed mappings as the schema holds them: a target changed in the portal shows its new source, one
/// deleted there drops out (so the plan adds it again), and a removed target that is back leaves
/// `removed_targets` (so the plan removes it again).
pub(super) fn refreshed(
    managed: &Set<AttributeMappingModel>,
    removed: &Attr<BTreeSet<String>>,
    remote: &BTreeMap<String, MappingSource>,
) -> (Set<AttributeMappingModel>, Attr<BTreeSet<String>>) {
    let mappings = managed
        .0
        .iter()
        .filter_map(|m| {
            let target = m.target.as_str()?;
            let (source, expression) = match remote.get(target)? {
                MappingSource::Attribute(name) => (Attr::from(name.clone()), Attr::Null),
                MappingSource::Expression(text) => (Attr::Null, Attr::from(text.clone())),
            };
            Some(AttributeMappingModel {
                target: target.into(),
                source,
                expression,
            })
        })
        .collect();
    let removed = removed.clone().map(|targets| {
        targets
            .into_iter()
            .filter(|t| !remote.contains_key(t))
            .collect()
    });
    (Set(mappings), removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(
        target: &str,
        source: Option<&str>,
        expression: Option<&str>,
    ) -> AttributeMappingModel {
        AttributeMappingModel {
            target: target.into(),
            source: source.map(str::to_string).into(),
            expression: expression.map(str::to_string).into(),
        }
    }

    #[test]
    fn targets_follow_aws_scim_guide() {
        for good in [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "addresses[type eq \"work\"].locality",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ] {
            assert_eq!(unsupported_target(good), None, "{good}");
        }
        for bad in [
            "ims[type eq \"work\"].value",
            "password",
            "emails[type eq \"work\"].display",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeType",
            "roles",
        ] {
            assert!(unsupported_target(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn plan_checks_sources_duplicates_types_and_removals() {
        let ok = [mapping("title", Some("jobTitle"), None)];
        assert!(validate_mappings(&ok, &Attr::Null).is_empty());
        assert!(validate_mappings(&[mapping("title", None, None)], &Attr::Null).has_errors());
        assert!(
            validate_mappings(
                &[mapping("title", Some("a"), Some("Join(\" \", [a])"))],
                &Attr::Null
            )
            .has_errors()
        );
        let twice = [
            mapping("title", Some("a"), None),
            mapping("title", Some("b"), None),
        ];
        assert!(validate_mappings(&twice, &Attr::Null).has_errors());
        let two_phones = [
            mapping("phoneNumbers[type eq \"work\"].value", Some("a"), None),
            mapping("phoneNumbers[type eq \"mobile\"].value", Some("b"), None),
        ];
        assert!(validate_mappings(&two_phones, &Attr::Null).has_errors());
        let removed = Attr::from(BTreeSet::from(["title".to_string()]));
        assert!(validate_mappings(&ok, &removed).has_errors());
    }

    #[test]
    fn refresh_follows_the_schema_for_managed_targets_only() {
        let managed = Set(vec![
            mapping("title", Some("jobTitle"), None),
            mapping("nickName", Some("mailNickname"), None),
        ]);
        let removed = Attr::from(BTreeSet::from([
            "name.formatted".to_string(),
            "locale".to_string(),
        ]));
        let remote = BTreeMap::from([
            (
                "title".to_string(),
                MappingSource::Expression("ToUpper([jobTitle])".into()),
            ),
            (
                "locale".to_string(),
                MappingSource::Attribute("preferredLanguage".into()),
            ),
            (
                "userName".to_string(),
                MappingSource::Attribute("userPrincipalName".into()),
            ),
        ]);
        let (mappings, removed) = refreshed(&managed, &removed, &remote);
        assert_eq!(
            mappings.0,
            vec![mapping("title", None, Some("ToUpper([jobTitle])"))]
        );
        assert_eq!(
            removed,
            Attr::from(BTreeSet::from(["name.formatted".to_string()]))
        );
    }
}
