//! `Debug` for generated messages that carry user configuration or state. Their bytes may hold
//! secrets (client secrets, SCIM tokens), so debugging output shows only which encoding is set
//! and how large it is.

use std::fmt;

use super::tfplugin6::{DynamicValue, RawState};

impl fmt::Debug for DynamicValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicValue")
            .field("msgpack_len", &self.msgpack.len())
            .field("json_len", &self.json.len())
            .finish()
    }
}

impl fmt::Debug for RawState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawState")
            .field("json_len", &self.json.len())
            .field("flatmap_keys", &self.flatmap.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_value_debug_hides_contents() {
        let value = DynamicValue {
            msgpack: b"\x81\xa6secret\xa8hunter22".to_vec(),
            json: Vec::new(),
        };
        let shown = format!("{value:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("msgpack_len: 17"), "{shown}");
    }

    #[test]
    fn raw_state_debug_hides_contents() {
        let state = RawState {
            json: br#"{"client_secret":"hunter22"}"#.to_vec(),
            flatmap: [("client_secret".to_owned(), "hunter22".to_owned())].into(),
        };
        let shown = format!("{state:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("flatmap_keys: 1"), "{shown}");
    }
}
