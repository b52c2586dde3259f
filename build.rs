//! Generates the Rust types and gRPC stubs for proto/ with pure-Rust tooling (protox parses the
//! .proto files, so no system `protoc` is needed to build the provider).

use std::error::Error;

const PROTOS: [&str; 3] = [
    "proto/tfplugin6.proto",
    "proto/go_plugin/controller.proto",
    "proto/go_plugin/stdio.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        // The framework must answer every RPC deliberately, so a newly added protocol method
        // breaks the build instead of silently answering "unimplemented".
        .generate_default_stubs(false)
        // These carry user configuration and state (possibly secrets); src/protocol/redact.rs
        // gives them a Debug that shows sizes only.
        .skip_debug(["tfplugin6.DynamicValue", "tfplugin6.RawState"])
        .compile_fds(descriptors)?;
    Ok(())
}
