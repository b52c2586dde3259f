//! Small helpers more than one resource needs, kept here so that each rule lives in one place.

use std::sync::Arc;

use crate::clients::graph::GraphClient;
use crate::framework::{Context, Diagnostics};
use crate::provider::IdbridgeClients;

/// The configured clients and the Graph client built from them (the first call authenticates).
pub(crate) async fn graph_clients(
    ctx: &Context,
) -> Result<(Arc<IdbridgeClients>, Arc<GraphClient>), Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let graph = clients.graph().await?;
    Ok((clients, graph))
}

/// An Entra object id: a GUID in its 8-4-4-4-12 hexadecimal form.
pub(crate) fn is_object_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|group| group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_guids_in_8_4_4_4_12_form() {
        assert!(is_object_id("00000000-0000-0000-0000-000000000000"));
        assert!(is_object_id("6F0a1b2c-3d4e-5f60-7a8b-9c0d1e2f3a4b"));
        for bad in [
            "",
            "not-a-guid",
            "00000000-0000-0000-0000-00000000000",
            "00000000-0000-0000-0000-0000000000000",
            "00000000000000000000000000000000",
            "0000000g-0000-0000-0000-000000000000",
            "00000000-0000-0000-0000-000000000000-0000",
            "0000000é-0000-0000-0000-00000000000",
        ] {
            assert!(!is_object_id(bad), "{bad:?}");
        }
    }
}
