//! The "Command line" sections of the READMEs (the repository's, the Python and Node packages'
//! and this crate's) run as written: every line of their `sh` blocks that starts with `partly `
//! is run against a `partly-mock`, and must succeed without printing a secret.
//! (Not in the packaged crate: it reads the other packages' READMEs.)

use std::path::{Path, PathBuf};
use std::process::Stdio;

use partly_mock::{MockConfig, MockServer, DEMO_API_KEY, DEMO_INTEGRATION_ID};

/// The `partly ...` lines of the `sh` blocks of a README's "## Command line" section.
fn commands(readme: &str) -> Vec<String> {
    let Some(start) = readme.find("\n## Command line") else { return Vec::new() };
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map(|i| i + 3).unwrap_or(section.len())];
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if in_sh && line.starts_with("partly ") {
            out.push(line.to_string());
        }
    }
    out
}

/// Splits a command as a POSIX shell would (words, '…' and "…"; no expansions are used).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quote, mut any) = (Vec::new(), String::new(), None::<char>, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_line_example_of_the_readmes_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository").to_path_buf();
    let readmes: Vec<PathBuf> = ["README.md", "bindings-python/README.md", "bindings-node/README.md", "cli/README.md"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    let mock = MockServer::start(MockConfig::default()).await.expect("mock");
    let dir = std::env::temp_dir().join(format!("partly-cli-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let vins: String = (0..250).map(|i| format!("VIN{i:07}\n")).collect();
    std::fs::write(dir.join("vins.txt"), vins).expect("vins.txt");
    std::fs::write(dir.join("fleet.csv"), "Fleet No,VIN,Rego,State\n1,JH4KA7561PC008269,,\n2,,ABC123,NSW\n")
        .expect("fleet.csv");
    for readme in readmes {
        let text = std::fs::read_to_string(&readme).expect("readme");
        let lines = commands(&text);
        assert!(lines.len() >= 5, "{} has no Command line section with its commands", readme.display());
        for line in lines {
            let args = words(&line);
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_partly"))
                .args(&args[1..])
                .current_dir(&dir)
                .env("PARTLY_BASE_URL", mock.url())
                .env("PARTLY_API_KEY", DEMO_API_KEY)
                .env("PARTLY_INTEGRATION_ID", DEMO_INTEGRATION_ID)
                .stdin(Stdio::null())
                .output()
                .await
                .expect("run");
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.status.code(), Some(0), "{}: `{line}` failed:\n{stdout}\n{stderr}", readme.display());
            assert!(!stdout.contains(DEMO_API_KEY) && !stderr.contains(DEMO_API_KEY), "`{line}` printed the key");
        }
    }
    assert!(mock.prepared_identifiers() >= 252, "the preload examples sent their files");
}
