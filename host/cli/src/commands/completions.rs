//! `qhub completions SHELL`: the shell's completion script for qhub, on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::CliResult;

#[derive(Debug, clap::Args)]
#[command(after_help = "Install (restart the shell afterwards):
  bash:       qhub completions bash > ~/.local/share/bash-completion/completions/qhub
  zsh:        qhub completions zsh > ~/.zfunc/_qhub   (with fpath+=~/.zfunc before compinit)
  fish:       qhub completions fish > ~/.config/fish/completions/qhub.fish
  powershell: qhub completions powershell >> $PROFILE")]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self) -> CliResult {
        out!("{}", script(self.shell));
        Ok(())
    }
}

/// The completion script of `shell` for the whole `qhub` grammar, as
/// `clap_complete` writes it (it completes the hidden `man` too).
pub fn script(shell: Shell) -> String {
    let mut bytes = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "qhub", &mut bytes);
    String::from_utf8(bytes).expect("clap_complete writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let text = script(shell);
            for command in ["register", "keys", "completions"] {
                assert!(text.contains(command), "{shell}: no {command:?} in\n{text}");
            }
        }
    }

    #[test]
    fn the_bash_script_is_valid_bash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qhub.bash");
        std::fs::write(&path, script(Shell::Bash)).unwrap();
        let status = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .status()
            .expect("bash runs");
        assert!(status.success(), "bash -n: {status}");
    }
}
