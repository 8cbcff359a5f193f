//! `cargo xtask new-plugin oauth NAME [--path DIR]`: scaffolds an OAuth provider
//! plugin crate that builds to a component and passes its own test.
//!
//! Two layouts, picked by where the crate goes:
//! Either way the plugin is written against the provider SDK (`sdk/provider`,
//! crate `qhub-provider-sdk`), which carries the frozen contract
//! `qhub:provider@0.1.0` and its bindings: the plugin has no WIT of its own.
//!
//! - inside this repository (the default, `plugins/NAME`): a workspace member that
//!   inherits the workspace's dependencies and uses the SDK in place, so
//!   `cargo xtask build-plugins` builds it with the others;
//! - anywhere else (`--path DIR`): a standalone crate with its own `[workspace]`, a
//!   copy of the SDK (its sources and its WIT), and crates.io dependencies, so it
//!   builds without this repository.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask new-plugin oauth NAME [--path DIR]";

const LIB_RS: &str = include_str!("../templates/oauth-provider/lib.rs.tmpl");
const README: &str = include_str!("../templates/oauth-provider/README.md.tmpl");
const CARGO_MEMBER: &str = include_str!("../templates/oauth-provider/Cargo.member.toml.tmpl");
const CARGO_STANDALONE: &str =
    include_str!("../templates/oauth-provider/Cargo.standalone.toml.tmpl");
const SDK_CARGO: &str = include_str!("../templates/oauth-provider/sdk.Cargo.toml.tmpl");
const MANIFEST: &str = include_str!("../templates/oauth-provider/manifest.toml.tmpl");
const BUILD_SH: &str = include_str!("../templates/oauth-provider/build.sh.tmpl");

/// Where the scaffold goes, and which layout that implies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// `plugins/NAME` of this workspace.
    Member,
    /// Outside the workspace, building on its own.
    Standalone,
}

/// A crate to write: its name and where.
#[derive(Debug)]
pub struct Scaffold {
    name: String,
    dir: PathBuf,
    layout: Layout,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    let scaffold = parse(&root, args)?;
    scaffold.write(&root)?;
    print_next_steps(&root, &scaffold);
    Ok(())
}

fn parse(root: &Path, args: &[String]) -> anyhow::Result<Scaffold> {
    let mut positional = Vec::new();
    let mut path = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--path" => {
                path =
                    Some(PathBuf::from(args.next().with_context(|| {
                        format!("--path needs a directory\n{USAGE}")
                    })?))
            }
            other if other.starts_with('-') => {
                bail!("unknown option {other:?} for new-plugin\n{USAGE}")
            }
            other => positional.push(other),
        }
    }
    let [kind, name] = positional[..] else {
        bail!("new-plugin needs a kind and a name\n{USAGE}");
    };
    if kind != "oauth" {
        bail!(
            "unknown plugin kind {kind:?}\nhint: the only kind so far is `oauth` (an OAuth provider)"
        );
    }
    validate_name(name)?;
    let dir = match path {
        Some(path) => absolute(&path)?,
        None => root.join("plugins").join(name),
    };
    let layout = if dir.starts_with(root) {
        if dir != root.join("plugins").join(name) {
            bail!(
                "{} is inside the QHub workspace but not at plugins/{name}\nhint: drop --path to create plugins/{name}, or choose a directory outside the repository for a standalone crate",
                dir.display()
            );
        }
        Layout::Member
    } else {
        Layout::Standalone
    };
    Ok(Scaffold {
        name: name.to_owned(),
        dir,
        layout,
    })
}

/// Plugin names are lowercase kebab-case: they become the directory, the crate name
/// (`qhub-plugin-NAME`), the manifest's name and the `NAME.wasm` file.
fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        let suggestion: String = name
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let hint = if suggestion.starts_with(|c: char| c.is_ascii_lowercase()) {
            format!("hint: names are lowercase kebab-case, like {suggestion:?}")
        } else {
            "hint: names are lowercase kebab-case starting with a letter, like \"oauth-gitlab\""
                .to_owned()
        };
        bail!("invalid plugin name {name:?}\n{hint}");
    }
    Ok(())
}

/// `path` made absolute and lexically normalised (it need not exist yet).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined = std::env::current_dir()
        .context("cannot read the current directory")?
        .join(path);
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

impl Scaffold {
    fn package(&self) -> String {
        format!("qhub-plugin-{}", self.name)
    }

    /// Where the plugin's `hosts` are written.
    fn hosts_file(&self) -> &'static str {
        match self.layout {
            Layout::Member => "Cargo.toml",
            Layout::Standalone => "manifest.toml",
        }
    }

    /// The command that builds the component with its manifest, as the README
    /// shows it.
    fn build_command(&self) -> &'static str {
        match self.layout {
            Layout::Member => {
                "cargo xtask build-plugins                           # from QHub's root: component and manifest"
            }
            Layout::Standalone => {
                "./build.sh                                          # component and manifest, in dist/"
            }
        }
    }

    fn render(&self, template: &str) -> String {
        let build_notes = match self.layout {
            Layout::Member => format!(
                "Inside the QHub repository, `cargo xtask build-plugins` builds it with the\n\
                 other plugins and writes `target/plugins/dist/{name}.wasm` and\n\
                 `{name}.plugin.toml`; install with\n\
                 `qhub plugins install target/plugins/dist/{name}.plugin.toml`.",
                name = self.name
            ),
            Layout::Standalone => format!(
                "`./build.sh` builds the component and writes it, with its manifest, into\n\
                 `dist/`: `dist/{name}.wasm` and `dist/{name}.plugin.toml`, which is\n\
                 `manifest.toml` (name, world, the hosts the plugin asks for) plus the\n\
                 component's SHA-256. Install with\n\
                 `qhub plugins install dist/{name}.plugin.toml`. `qhub-provider-sdk/` is a\n\
                 copy of QHub's provider SDK for `qhub:provider@0.1.0`, a contract that never\n\
                 changes: QHub keeps loading components built against it.",
                name = self.name
            ),
        };
        template
            .replace("{{name}}", &self.name)
            .replace("{{package}}", &self.package())
            .replace("{{file}}", &self.package().replace('-', "_"))
            .replace("{{hosts_file}}", self.hosts_file())
            .replace("{{build_command}}", self.build_command())
            .replace("{{build_notes}}", &build_notes)
    }

    /// Writes the crate; refuses to touch an existing directory.
    pub fn write(&self, root: &Path) -> anyhow::Result<()> {
        if self.dir.exists() {
            bail!(
                "{} already exists\nhint: choose another name or --path; new-plugin never overwrites",
                self.dir.display()
            );
        }
        let cargo = match self.layout {
            Layout::Member => CARGO_MEMBER,
            Layout::Standalone => CARGO_STANDALONE,
        };
        write(&self.dir.join("Cargo.toml"), &self.render(cargo))?;
        write(&self.dir.join("src/lib.rs"), &self.render(LIB_RS))?;
        write(&self.dir.join("README.md"), &self.render(README))?;
        match self.layout {
            Layout::Member => add_member(root, &self.name)?,
            Layout::Standalone => self.vendor(root)?,
        }
        Ok(())
    }

    /// Copies what a standalone crate needs from this repository.
    fn vendor(&self, root: &Path) -> anyhow::Result<()> {
        let sdk = self.dir.join("qhub-provider-sdk");
        write(&sdk.join("Cargo.toml"), SDK_CARGO)?;
        copy_files(&root.join("sdk/provider/src"), &sdk.join("src"), "rs")?;
        copy_files(
            &root.join("wit/deps/qhub-provider@0.1.0"),
            &sdk.join("wit"),
            "wit",
        )?;
        // The workspace's lock file pins the versions QHub is tested with; cargo drops
        // what the plugin does not use on its first build.
        fs::copy(root.join("Cargo.lock"), self.dir.join("Cargo.lock"))
            .context("copying Cargo.lock")?;
        write(
            &self.dir.join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"stable\"\ntargets = [\"wasm32-wasip2\"]\nprofile = \"minimal\"\n",
        )?;
        write(&self.dir.join(".gitignore"), "/target\n/dist\n")?;
        write(&self.dir.join("manifest.toml"), &self.render(MANIFEST))?;
        let build = self.dir.join("build.sh");
        write(&build, &self.render(BUILD_SH))?;
        fs::set_permissions(&build, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", build.display()))?;
        Ok(())
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Copies the files of `from` ending in `.ext` into `to`.
fn copy_files(from: &Path, to: &Path, ext: &str) -> anyhow::Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == ext) {
            let file = path.file_name().context("a file name")?;
            fs::copy(&path, to.join(file))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

/// Adds `plugins/NAME` to the root `Cargo.toml`'s `members`, in order among the
/// other plugins, editing the text so comments and layout stay as they are.
fn add_member(root: &Path, name: &str) -> anyhow::Result<()> {
    let path = root.join("Cargo.toml");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let updated = with_member(&text, &format!("plugins/{name}"))?;
    fs::write(&path, updated).with_context(|| format!("cannot write {}", path.display()))
}

fn with_member(manifest: &str, member: &str) -> anyhow::Result<String> {
    let start = manifest
        .find("members = [")
        .context("no `members = [` in the workspace Cargo.toml")?;
    let end = start
        + manifest[start..]
            .find(']')
            .context("unterminated members list")?;
    let entry = format!("    \"{member}\",\n");
    let block = &manifest[start..end];
    // Before the first plugin entry that sorts after the new one, else after the
    // last plugin entry, else at the end of the list.
    let mut insert_at = None;
    let mut offset = start;
    for line in block.split_inclusive('\n') {
        let item = line.trim().trim_end_matches(',').trim_matches('"');
        if item == member {
            bail!("{member} is already a workspace member");
        }
        if item.starts_with("plugins/") {
            if item > member {
                insert_at = Some(offset);
                break;
            }
            insert_at = Some(offset + line.len());
        }
        offset += line.len();
    }
    let at = insert_at.unwrap_or(end);
    Ok(format!("{}{entry}{}", &manifest[..at], &manifest[at..]))
}

fn print_next_steps(root: &Path, scaffold: &Scaffold) {
    let name = &scaffold.name;
    let dir = scaffold
        .dir
        .strip_prefix(root)
        .unwrap_or(&scaffold.dir)
        .display();
    println!(
        "created {dir}: {} (world qhub:provider/oauth-provider-plugin@0.1.0)",
        scaffold.package()
    );
    println!("\nnext steps:");
    println!(
        "  1. fill in the TODOs in {dir}/src/lib.rs and the hosts in {dir}/{}",
        scaffold.hosts_file()
    );
    match scaffold.layout {
        Layout::Member => {
            println!("  2. test:     cargo test -p {}", scaffold.package());
            println!("  3. build:    cargo xtask build-plugins");
            println!("  4. install:  qhub plugins install target/plugins/dist/{name}.plugin.toml");
        }
        Layout::Standalone => {
            println!("  2. test:     cd {dir} && cargo test");
            println!("  3. build:    {dir}/build.sh");
            println!("  4. install:  qhub plugins install {dir}/dist/{name}.plugin.toml");
        }
    }
    println!("  5. grant its hosts in QHUB_HOME/providers.toml:");
    println!("       [providers.{name}]");
    println!("       plugin = \"{name}\"");
    println!("       grant = [\"https://auth.example.com:443\"]");
    println!("       [providers.{name}.config]");
    println!("       client-id = \"...\"");
    println!("     then: qhub plugins inspect {name}");
}

#[cfg(test)]
#[path = "new_plugin_tests.rs"]
mod tests;
