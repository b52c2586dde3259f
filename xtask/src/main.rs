//! `cargo run -p xtask -- docs [--check]`: renders docs/ from the provider's schema and templates/, or, with
//! `--check`, fails when the committed pages differ from what would be rendered.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo run -p xtask -- docs [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = xtask::workspace_root();
    let outcome = match args.as_slice() {
        ["docs"] => xtask::docs::write(&root).map(|report| {
            for line in report {
                println!("{line}");
            }
        }),
        ["docs", "--check"] => xtask::docs::check(&root).map(|()| println!("docs/ is up to date")),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
