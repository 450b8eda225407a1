//! `automa completions SHELL` and `automa man`: generated from the clap definition, so
//! they never drift from the commands.

use clap::CommandFactory as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs) -> ExitCode {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "automa", &mut std::io::stdout());
    ExitCode::SUCCESS
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (automa.1, automa-scripts-push.1, ...) into DIR
    /// instead of printing automa(1).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// automa(1) in roff on stdout (`automa man | man -l -`), or every page into a dir.
pub fn man(args: ManArgs) -> ExitCode {
    let command = super::Cli::command();
    let result = match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).and_then(|()| clap_mangen::generate_to(command, &dir))
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("automa man: {e}");
            ExitCode::from(2)
        }
    }
}
