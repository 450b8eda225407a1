//! The `automa` binary: a thin shim over the command-line interface.

use std::process::ExitCode;

fn main() -> ExitCode {
    automa::cli::main()
}
