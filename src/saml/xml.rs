//! Small helpers over roxmltree shared by both metadata parsers.

use roxmltree::{Document, Node};

use super::MetadataError;
use super::certificate::{CertificateInfo, parse_certificate_base64};

pub(super) const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Parses the text, mapping syntax errors to a line/column diagnostic. roxmltree refuses DTDs by default, which
/// also shuts out entity-expansion attacks from uploaded files.
pub(super) fn parse_document(xml: &str) -> Result<Document<'_>, MetadataError> {
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    if xml.trim().is_empty() {
        return Err(MetadataError::Empty);
    }
    Document::parse(xml).map_err(|error| {
        let position = error.pos();
        MetadataError::NotXml {
            line: position.row,
            column: position.col,
            message: error.to_string(),
        }
    })
}

fn is_md(node: &Node<'_, '_>, local_name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local_name
        && node.tag_name().namespace() == Some(MD_NS)
}

pub(super) fn md_children<'a, 'input>(
    node: Node<'a, 'input>,
    local_name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |child| is_md(child, local_name))
}

/// Finds the single `EntityDescriptor`: either the root, or the only child of an `EntitiesDescriptor`.
pub(super) fn single_entity_descriptor<'a, 'input>(
    document: &'a Document<'input>,
) -> Result<Node<'a, 'input>, MetadataError> {
    let root = document.root_element();
    if is_md(&root, "EntityDescriptor") {
        return Ok(root);
    }
    if is_md(&root, "EntitiesDescriptor") {
        let entities: Vec<_> = root
            .descendants()
            .filter(|node| is_md(node, "EntityDescriptor"))
            .collect();
        return match entities.as_slice() {
            [] => Err(MetadataError::NoEntityDescriptor {
                found: "EntitiesDescriptor (empty)".into(),
            }),
            [single] => Ok(*single),
            several => Err(MetadataError::SeveralEntityDescriptors {
                entity_ids: several
                    .iter()
                    .map(|node| {
                        node.attribute("entityID")
                            .unwrap_or("(no entityID)")
                            .to_string()
                    })
                    .collect(),
            }),
        };
    }
    let found = match root.tag_name().namespace() {
        Some(namespace) => format!("{} xmlns=\"{namespace}\"", root.tag_name().name()),
        None => root.tag_name().name().to_string(),
    };
    Err(MetadataError::NoEntityDescriptor { found })
}

pub(super) fn entity_id(entity: &Node<'_, '_>) -> Result<String, MetadataError> {
    match entity.attribute("entityID") {
        Some(id) if !id.trim().is_empty() => Ok(id.to_string()),
        _ => Err(MetadataError::MissingEntityId),
    }
}

/// XML Schema booleans: `true`, `false`, `1`, `0` (whitespace collapsed).
pub(super) fn optional_bool(
    node: &Node<'_, '_>,
    attribute: &str,
) -> Result<Option<bool>, MetadataError> {
    match node.attribute(attribute).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(MetadataError::InvalidBoolean {
            attribute: attribute.into(),
            value: other.into(),
        }),
    }
}

/// Certificates of a role descriptor's `KeyDescriptor`s for one use. A descriptor without `use` serves both
/// signing and encryption (SAML metadata spec, 2.4.1.1).
pub(super) fn key_descriptor_certificates(
    role: &Node<'_, '_>,
    wanted_use: &str,
) -> Result<Vec<CertificateInfo>, MetadataError> {
    let mut certificates: Vec<CertificateInfo> = Vec::new();
    for key_descriptor in md_children(*role, "KeyDescriptor") {
        let key_use = key_descriptor.attribute("use").map(str::trim);
        if key_use.is_some_and(|declared| declared != wanted_use) {
            continue;
        }
        let values = key_descriptor.descendants().filter(|node| {
            node.is_element()
                && node.tag_name().name() == "X509Certificate"
                && node.tag_name().namespace() == Some(DSIG_NS)
        });
        for value in values {
            let text: String = value
                .descendants()
                .filter(|node| node.is_text())
                .filter_map(|node| node.text())
                .collect();
            let certificate = parse_certificate_base64(&text).map_err(|reason| {
                MetadataError::InvalidCertificate {
                    usage: wanted_use.into(),
                    reason,
                }
            })?;
            if !certificates
                .iter()
                .any(|known| known.der == certificate.der)
            {
                certificates.push(certificate);
            }
        }
    }
    Ok(certificates)
}

/// An endpoint element's `(Binding, Location)`; a missing Location is an error naming the element.
pub(super) fn endpoint(node: &Node<'_, '_>) -> Result<(String, String), MetadataError> {
    let location = node
        .attribute("Location")
        .map(str::to_string)
        .ok_or_else(|| MetadataError::MissingLocation {
            element: node.tag_name().name().into(),
        })?;
    let binding = node.attribute("Binding").unwrap_or_default().to_string();
    Ok((binding, location))
}
